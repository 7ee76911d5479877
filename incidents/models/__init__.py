from .catalog import Service, Severity
from .people import Profile

__all__ = ["Profile", "Service", "Severity"]
