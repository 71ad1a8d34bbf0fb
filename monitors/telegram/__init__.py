"""The Telegram monitor (Telethon): reads watched channels over MTProto, live for joined
channels and by polling for the others, and feeds every message through the processing chain."""

from monitors.telegram.boundary import Boundary, TelethonBoundary
from monitors.telegram.monitor import TelegramMonitor

__all__ = ["Boundary", "TelegramMonitor", "TelethonBoundary"]
