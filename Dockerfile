# hfweekly: the bot (`hfweekly run`). Secrets come from the environment (.env via docker compose);
# nothing secret is baked into the image.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PTB_TIMEDELTA=true \
    HFWEEKLY_HTTP_HOST=0.0.0.0

RUN useradd --create-home --uid 10001 hfweekly
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
# The default settings.toml, prompt.md, glossary.toml and brief.md ship in the package; to change one,
# mount a directory holding just that file at /app/config (the working directory's config/).

USER hfweekly
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
CMD ["hfweekly", "run"]
