"""A Mattermost API v4 stand-in: the endpoints our Mattermost adapter calls, answered as
Mattermost does (``server.py`` holds the state and auth, ``channels.py`` and ``posts.py`` the
endpoints). Point ``MATTERMOST_URL`` at its base URL.

As strict as Mattermost: 401 without a valid token; 403 when the bot is not a member of the
channel it writes to or a team it creates in; 404 for unknown users, channels, posts and
teams; 400 ``store.sql_channel.save_channel.exists.app_error`` for a duplicate channel name;
429 with ``X-RateLimit-Reset`` beyond ``per_second`` calls a second per token. Errors are
``{"id", "message", "status_code", "request_id"}``.
"""

from .server import MattermostStandin, make_server

__all__ = ["MattermostStandin", "make_server"]
