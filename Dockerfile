# The Rahnuma app (and worker). The NLU server is Rasa's official image (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONPATH=/srv/rahnuma

WORKDIR /srv/rahnuma
# Dependencies first, pinned by requirements/app.txt, so a code change rebuilds in seconds.
COPY pyproject.toml ./
COPY requirements/app.txt requirements/app.txt
RUN mkdir -p api bot && touch api/__init__.py bot/__init__.py \
    && pip install -c requirements/app.txt . && pip uninstall -y rahnuma \
    && rm -rf api bot

# The code runs from here (PYTHONPATH), so content/, migrations/ and alembic.ini sit beside it.
COPY api ./api
COPY bot ./bot
COPY content ./content
COPY migrations ./migrations
COPY alembic.ini ./
COPY nlu_data/keywords.yml ./nlu_data/keywords.yml
RUN useradd --system --uid 10001 --home-dir /srv/rahnuma rahnuma \
    && mkdir -p var/evidence && chown -R rahnuma var

USER rahnuma
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["python", "-m", "bot.cli", "serve", "--host", "0.0.0.0", "--port", "8000"]
