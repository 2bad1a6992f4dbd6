# Inference Lens: the Telegram bot in a slim image.
#   docker build -t inference-lens .
#   docker run -e TELEGRAM_BOT_TOKEN=... -v lens-data:/data inference-lens
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tools ./tools
COPY bot ./bot
COPY data ./data
COPY prompts ./prompts
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# ca-certificates: openai 3 verifies TLS with the OS certificate store.
# fonts-noto-cjk: Chinese labels on the chart images.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 lens && mkdir /data && chown lens /data
USER lens
ENV INFERENCE_LENS_DB=/data/inference-lens.db \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
ENTRYPOINT ["inference-lens"]
CMD ["run"]
