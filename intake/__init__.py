"""intake: secure intake for Älvsbyn kommun. Only `create_app` builds an app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, models, blueprints, CLI, error handlers."""
    from intake import cli, errors, health, metrics, ratelimit, web
    from intake import config as configuration
    from intake.extensions import babel, csrf, db, limiter, login, mail, migrate

    app = Flask(
        __name__,
        instance_path=configuration.instance_path_from_environment(),
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="static",
    )
    from intake import backup

    if backup.secrets_pending(app):
        # `flask --app intake restore` before the instance has secrets (intake.backup).
        return backup.bare_app(app, config)
    configuration.load_config(app, config)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        # The client address and scheme as the nearest `proxies` proxies saw them: rate limits
        # key on the resident, not on the proxy. Without proxies the headers are ignored.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(web.MIGRATIONS))
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    login.init_app(app, add_context_processor=False)  # guard.template_user instead
    ratelimit.configure(app)
    limiter.init_app(app)

    from intake import models  # noqa: F401 - registers every table with the metadata
    from intake.accounts import guard  # registers the session loaders

    app.context_processor(guard.template_user)
    web.register(app)
    health.register(app)
    ratelimit.check_in_views_only(app, limiter)
    metrics.register(app)
    cli.register(app)
    errors.register(app)
    return app
