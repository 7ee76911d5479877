"""What the status page does on events and questions (nexusops/engine/events.py).

It asks ``ScheduledMaintenance`` (``statuspage/events.py``) of the apps above it; it answers the
command page's ``CommandPagePanels`` with the publish form, so ``incidents`` never imports it.
"""

from incidents.events import CommandPagePanels

from .selectors import command_page_panels

HANDLERS = {
    # The incident command page shows the "Status page" fold to those who may publish.
    CommandPagePanels: [command_page_panels],
}
