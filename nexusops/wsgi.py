import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexusops.settings")
application = get_wsgi_application()

# The alert webhooks are answered in front of Django's handler (alerts/wsgi.py); every other
# request goes to Django as it is. Imported after the application: it needs the apps loaded.
from alerts.wsgi import IntakeFront  # noqa: E402

application = IntakeFront(application)
