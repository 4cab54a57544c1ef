# Rahnuma: `make run` to try it, `make test` to check it. Both set themselves up from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_PYTHON ?= python3
VENV := .venv
NLU_VENV := .venv-nlu
RASA_URL ?= http://127.0.0.1:5005
RASA_PORT := $(shell echo "$(RASA_URL)" | sed -E 's|.*:([0-9]+).*|\1|')
NLU_DATA := nlu_data/config.yml nlu_data/domain.yml $(wildcard nlu_data/data/*.yml) \
  content/places.yml
MODEL_STAMP := nlu_data/models/.trained
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup run test lint browser nlu-train nlu-serve nlu-eval conv-eval bench clean

help:
	@echo "make run    set up, then start Rasa + the app on http://127.0.0.1:8000"
	@echo "make test   set up, then run the checks and the test suite"
	@echo "other targets: setup nlu-train nlu-serve nlu-eval bench lint clean"

setup: $(VENV)/.installed $(NLU_VENV)/.installed $(MODEL_STAMP)

$(VENV)/.installed: pyproject.toml requirements/app.txt
	@$(APP_PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "the app needs Python 3.11+"'
	test -x $(VENV)/bin/python || $(APP_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements/app.txt -e '.[dev]'
	touch $@

$(NLU_VENV)/.installed: requirements/nlu.txt
	test -x $(NLU_VENV)/bin/python || "$$(scripts/find-python310.sh)" -m venv $(NLU_VENV)
	$(NLU_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/nlu.txt
	touch $@

# Retrained whenever the training data or the pipeline is newer than the model.
$(MODEL_STAMP): $(NLU_DATA) bot/conversation/language.py $(VENV)/.installed $(NLU_VENV)/.installed
	$(MAKE) nlu-train

# The examples pass through the app's normalizer first (bot/conversation/nlu_build.py), so the model learns
# exactly the tokens the app will send it.
nlu-train: $(VENV)/.installed $(NLU_VENV)/.installed
	mkdir -p nlu_data/models
	$(VENV)/bin/python -m bot.conversation.nlu_build
	cd nlu_data && time ../$(NLU_VENV)/bin/rasa train nlu --config config.yml \
	  --nlu build/data --domain domain.yml --out models --quiet
	ls -t nlu_data/models/*.tar.gz | tail -n +4 | xargs -r rm --  # keep the 3 newest
	touch $(MODEL_STAMP)

nlu-serve: $(MODEL_STAMP)
	$(NLU_VENV)/bin/rasa run --enable-api --model nlu_data/models --interface 127.0.0.1 \
	  --port $(RASA_PORT) $(if $(RASA_TOKEN),--auth-token $(RASA_TOKEN))

run: setup
	$(VENV)/bin/rahnuma db upgrade
	$(VENV)/bin/rahnuma licences import --if-empty content/samples/licences_sample.csv
	$(VENV)/bin/rahnuma serve

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check api bot tests bench migrations/env.py
	$(VENV)/bin/mypy

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; no browser download),
# and Debian's Noto fonts: fonts-noto-core has Noto Nastaliq Urdu (Urdu, Punjabi) and Noto Naskh
# Arabic (Pashto), which the staff pages ask for and a browser test checks are drawn.
# fontconfig gives fc-list and fc-match, which the test uses to name the font a family resolves to.
BROWSER_PACKAGES := chromium fontconfig fonts-noto-core
browser:
	@missing=""; test -x /usr/bin/chromium || missing="chromium"; \
	command -v fc-match >/dev/null || missing="$$missing fontconfig"; \
	fc-list 2>/dev/null | grep -q "Noto Nastaliq Urdu" || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Install$$missing (Debian: sudo apt-get install $(BROWSER_PACKAGES)) for the browser tests"; \
	  fi; \
	fi

test: setup lint browser
	$(VENV)/bin/rahnuma content check
	$(VENV)/bin/pytest -q

nlu-eval: setup
	$(VENV)/bin/python -m bot.conversation.nlu_eval

# Scripted multi-turn conversations through the real engine and model: tests/conversations/
conv-eval: setup
	$(VENV)/bin/python -m bot.conversation.conv_eval

bench: setup
	$(VENV)/bin/python -m bench.run
	$(VENV)/bin/python -m bench.overload
	$(VENV)/bin/python -m bench.cpu
	$(VENV)/bin/python -m bench.outbox_drain
	$(VENV)/bin/python -m bench.alert_queue

clean:
	rm -rf $(VENV) $(NLU_VENV) nlu_data/models var
