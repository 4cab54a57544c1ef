"""HTTP only: adapts requests to the bot core and back."""
