"""Telethon TL objects into the items every crawler hands to the processing chain: a `Message`
becomes a `PostItem` (its `to_dict()` JSON kept as the capture, hashed), a `Channel` (with its
`ChannelFull`) a `ChannelItem`. Entity offsets are in UTF-16 code units, as Telegram counts."""

from __future__ import annotations

from telethon.helpers import add_surrogate, del_surrogate
from telethon.tl import types

from crawler.items import ChannelItem, PostItem
from spiders.tme_values import telegram_name

TME = "https://t.me"


def channel_key(channel) -> str:
    """The source key of a channel: its username, or its numeric id when it has none."""
    return (channel_username(channel) or str(channel.id)).lower()


def channel_username(channel) -> str | None:
    if getattr(channel, "username", None):
        return channel.username
    for entry in getattr(channel, "usernames", None) or []:  # collectible usernames
        if getattr(entry, "active", False):
            return entry.username
    return None


def post_url(username: str | None, channel_id: int, message_id: int) -> str:
    return f"{TME}/{username}/{message_id}" if username else f"{TME}/c/{channel_id}/{message_id}"


def restriction_text(channel) -> str | None:
    """Telegram's restriction reasons of a channel, one line, or None."""
    reasons = getattr(channel, "restriction_reason", None) or []
    if not getattr(channel, "restricted", False) and not reasons:
        return None
    text = "; ".join(f"{r.platform}/{r.reason}: {r.text}" for r in reasons)
    return text or "restricted"


def channel_item(channel, full=None) -> ChannelItem:
    """A channel (and its full description when read) as a ChannelItem."""
    return ChannelItem(
        username=channel_key(channel), numeric_id=channel.id, title=channel.title,
        description=getattr(full, "about", None),
        subscribers=getattr(full, "participants_count", None) or getattr(
            channel, "participants_count", None),
        verified=bool(getattr(channel, "verified", False)),
        status="blocked" if restriction_text(channel) else "active")


def _span(surrogated: str, entity) -> str:
    return del_surrogate(surrogated[entity.offset:entity.offset + entity.length])


def _links_and_mentions(message) -> tuple[list[str], list[str]]:
    text = add_surrogate(message.message or "")
    links: list[str] = []
    mentions: list[str] = []
    for entity in message.entities or []:
        if isinstance(entity, types.MessageEntityTextUrl):
            links.append(entity.url)
        elif isinstance(entity, types.MessageEntityUrl):
            url = _span(text, entity)
            links.append(url if "://" in url else f"https://{url}")
        elif isinstance(entity, types.MessageEntityMention):
            mentions.append(_span(text, entity).lstrip("@").lower())
    markup = message.reply_markup
    for row in getattr(markup, "rows", None) or []:  # shops put their bot behind a button
        for button in row.buttons:
            url = _button_url(button)
            if url:
                links.append(url)
    media = message.media
    if isinstance(media, types.MessageMediaWebPage) and isinstance(media.webpage, types.WebPage):
        links.append(media.webpage.url)
    for link in links:
        name = _tme_name(link)
        if name:
            mentions.append(name)
    return list(dict.fromkeys(links)), list(dict.fromkeys(mentions))


def _button_url(button) -> str | None:
    """A URL button's link, in every layer Telethon speaks: `KeyboardButtonUrl(url)` up to
    layer 2xx, `KeyboardButton(type=InlineButtonTypeUrl(url))` in newer ones."""
    for holder in (button, getattr(button, "type", None)):
        url = getattr(holder, "url", None)
        if isinstance(url, str) and url:
            return url
    return None


def _tme_name(url: str) -> str | None:
    name = telegram_name(url, "t.me")
    return name.lower() if name else None


_DOCUMENT_KINDS = (
    (types.DocumentAttributeSticker, "sticker"), (types.DocumentAttributeAnimated, "gif"),
    (types.DocumentAttributeVideo, "video"), (types.DocumentAttributeAudio, "audio"),
)


def media_kind(media) -> str | None:
    if media is None or isinstance(media, types.MessageMediaEmpty):
        return None
    if isinstance(media, types.MessageMediaPhoto):
        return "photo"
    if isinstance(media, types.MessageMediaDocument):
        attributes = getattr(media.document, "attributes", None) or []
        for attribute in attributes:
            if isinstance(attribute, types.DocumentAttributeAudio) and attribute.voice:
                return "voice"
            if isinstance(attribute, types.DocumentAttributeVideo) and attribute.round_message:
                return "roundvideo"
        for cls, kind in _DOCUMENT_KINDS:
            if any(isinstance(attribute, cls) for attribute in attributes):
                return kind
        return "document"
    names = {types.MessageMediaPoll: "poll", types.MessageMediaWebPage: "webpage",
             types.MessageMediaGeo: "location", types.MessageMediaVenue: "location",
             types.MessageMediaContact: "contact", types.MessageMediaGeoLive: "location"}
    return names.get(type(media), type(media).__name__.removeprefix("MessageMedia").lower())


def _forward(message, chats: dict[int, object]) -> tuple[str | None, str | None]:
    header = message.fwd_from
    if header is None:
        return None, None
    source = header.from_id
    if isinstance(source, types.PeerChannel):
        chat = chats.get(source.channel_id)
        name = channel_username(chat) if chat is not None else None
        if name:
            url = f"{TME}/{name}/{header.channel_post}" if header.channel_post else f"{TME}/{name}"
            return name.lower(), url
        return (getattr(chat, "title", None) or f"channel {source.channel_id}"), None
    return header.from_name or header.post_author or None, None


def is_post(message) -> bool:
    """A message with content (not a service message such as "channel created")."""
    return isinstance(message, types.Message)


def post_item(message, channel_id: int, username: str | None, chats: dict[int, object],
              captures) -> PostItem:
    """One channel message as a PostItem, its raw JSON captured first. The source key is the
    channel's numeric id: the store finds the source by it whatever the channel is called now."""
    url = post_url(username, channel_id, message.id)
    links, mentions = _links_and_mentions(message)
    forwarded_from, forwarded_url = _forward(message, chats)
    reply = getattr(message.reply_to, "reply_to_msg_id", None)
    return PostItem(
        source_key=str(channel_id), external_id=str(message.id), url=url,
        platform="telegram", source_numeric_id=channel_id, posted_at=message.date,
        edited=message.edit_date is not None and not message.edit_hide,
        text=message.message or "", views=message.views, forwarded_from=forwarded_from,
        forwarded_from_url=forwarded_url, reply_to=str(reply) if reply else None,
        media_kind=media_kind(message.media), links=links, mentions=mentions,
        author=message.post_author,
        capture=captures.write_json(url, message.to_dict()))


def post_items(messages, channel_id: int, username: str | None, chats: dict[int, object],
               captures) -> list[PostItem]:
    return [post_item(message, channel_id, username, chats, captures) for message in messages]
