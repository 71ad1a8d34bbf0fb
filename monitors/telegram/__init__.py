"""The Telegram monitor (Telethon): reads watched channels over MTProto, live for joined
channels and by polling for the others, and feeds every message through the processing chain.

`TelegramMonitor` is imported on first use, so that `kyran telegram login` (which lives in this
package too) does not load the processing chain."""

__all__ = ["Boundary", "TelegramMonitor", "TelethonBoundary"]


def __getattr__(name: str):
    if name in ("Boundary", "TelethonBoundary"):
        from monitors.telegram import boundary

        return getattr(boundary, name)
    if name == "TelegramMonitor":
        from monitors.telegram.monitor import TelegramMonitor

        return TelegramMonitor
    raise AttributeError(f"module 'monitors.telegram' has no attribute {name!r}")
