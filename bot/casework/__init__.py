"""Casework: referrals, evidence, staff accounts, impact figures and privacy."""
