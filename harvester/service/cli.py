"""``ichlinks serve``: run the HTTP service under uvicorn."""

from __future__ import annotations

import click

from harvester.cli import Context, handle_errors, pass_ctx


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port.")
@pass_ctx
@handle_errors
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the search API, record API, OAI-PMH feed (/oai) and web page.

    \b
    Read-only unless service.token is configured, which enables
    POST /api/harvest/{source} with "Authorization: Bearer <token>".
    """
    import uvicorn

    from harvester.service.app import create_app

    settings = ctx.settings
    ctx.engine().dispose()  # migrate the store (and report a bad store URL) before listening
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True,
                server_header=False)
