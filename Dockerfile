# Production image: one image for web (ASGI), worker and beat.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

# GeoDjango needs GDAL, GEOS and PROJ at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin binutils libproj25 libgeos-c1v5 curl gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY . .
# collectstatic and compilemessages (the mails' translations, .mo not in git) only read
# settings; these build-time values never reach a container.
RUN SECRET_KEY=build-only-0123456789-0123456789-0123456789-0123456789 \
    ALLOWED_HOSTS=build DATABASE_URL=postgis://build@localhost/build \
    AWS_ACCESS_KEY_ID=build AWS_SECRET_ACCESS_KEY=build \
    python manage.py collectstatic --no-input -v0 \
    && SECRET_KEY=build-only-0123456789-0123456789-0123456789-0123456789 \
    ALLOWED_HOSTS=build DATABASE_URL=postgis://build@localhost/build \
    AWS_ACCESS_KEY_ID=build AWS_SECRET_ACCESS_KEY=build \
    python manage.py compilemessages --ignore=.git --ignore=var -v0 \
    && useradd --system --uid 10001 --home /app placemap \
    && mkdir -p /app/var && chown placemap /app/var

USER placemap
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["python", "-m", "config.server", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
