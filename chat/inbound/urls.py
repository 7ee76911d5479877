from django.urls import path

from . import mattermost, teams, views

urlpatterns = [
    path("slack/commands/", views.slack_commands, name="slack-commands"),
    path("slack/interactivity/", views.slack_interactivity, name="slack-interactivity"),
    path("slack/events/", views.slack_events, name="slack-events"),
    path("teams/messages/", teams.teams_messages, name="teams-messages"),
    path("webhooks/pagerduty/", views.pagerduty_webhook, name="pagerduty-webhook"),
    path("mattermost/commands/", mattermost.mattermost_commands, name="mattermost-commands"),
    path("mattermost/actions/", mattermost.mattermost_actions, name="mattermost-actions"),
    path("mattermost/outgoing/", mattermost.mattermost_outgoing, name="mattermost-outgoing"),
]
