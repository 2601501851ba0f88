"""Run the web app with uvicorn: loopback by default, a token required anywhere else."""

from __future__ import annotations

import ipaddress
import socket
import sys

from newsmon.context import Context
from search.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(ctx: Context, *, host: str | None = None, port: int | None = None) -> int:
    """Serve until interrupted. Prints 'serving at URL' once listening (port 0 = any free)."""
    import uvicorn

    from newsmon.web.app import create_app

    web = ctx.config.section("web")
    host = host or str(web["host"])
    port = int(web["port"]) if port is None else port
    token = str(web["token"] or "")
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"serving on {host} (not loopback) needs an access token: set NEWSMON_WEB_TOKEN"
            " or [web] token in newsmon.toml")
    if token and len(token) < 16:
        raise ConfigError("the web token is too short: use at least 16 random characters")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    hosts = None if token else sorted({"127.0.0.1", "localhost", "::1", "[::1]", host})
    app = create_app(ctx, token=token, hosts=hosts)
    try:
        app.state.speakers.load()
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    auth = " (access token required)" if token else ""
    print(f"serving at http://{shown}:{bound}/{auth}", file=ctx.out, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    sys.stdout.flush()
    return 0
