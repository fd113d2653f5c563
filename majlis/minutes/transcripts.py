"""A transcript's words as plain text, from WebVTT, JSON or plain text (pure)."""

from __future__ import annotations

import io
import json

MAX_CHARS = 150_000  # the draft of the minutes holds at most 200,000 characters in all


def _speaker_lines(pairs) -> str:
    """Consecutive words of one speaker joined on one line, "Speaker: words"."""
    lines: list[list] = []
    for speaker, text in pairs:
        text = " ".join(str(text).split())
        if not text:
            continue
        if lines and lines[-1][0] == speaker:
            lines[-1][1] += " " + text
        else:
            lines.append([speaker, text])
    return "\n".join(f"{speaker}: {text}" if speaker else text for speaker, text in lines)


def _from_vtt(text: str) -> str:
    import webvtt

    captions = webvtt.from_buffer(io.StringIO(text))
    return _speaker_lines((getattr(caption, "voice", None), caption.text) for caption in captions)


_TEXT_KEYS = ("text", "transcript", "content", "message", "body")
_SPEAKER_KEYS = ("participant", "speaker", "name", "displayName", "participantName", "user")


def _from_json(data) -> str:
    """Transcript JSON in the shapes services write: a list of entries, or an object holding one (`messages`,
    `transcript`, `results`, `segments`...), each entry with its words and perhaps its speaker."""
    def entries(node):
        if isinstance(node, list):
            for item in node:
                yield from entries(item)
        elif isinstance(node, dict):
            text = next((node[key] for key in _TEXT_KEYS if isinstance(node.get(key), str)), None)
            if text is not None:
                speaker = next((node[key] for key in _SPEAKER_KEYS if isinstance(node.get(key), str)), None)
                if speaker is None:
                    nested = next((node[key] for key in _SPEAKER_KEYS if isinstance(node.get(key), dict)), {})
                    speaker = nested.get("name") if isinstance(nested.get("name"), str) else None
                yield speaker, text
            else:
                for value in node.values():
                    if isinstance(value, list | dict):
                        yield from entries(value)

    return _speaker_lines(entries(data))


def transcript_text(data: bytes) -> str:
    """The words of a transcript file, one speaker's turn a line (at most MAX_CHARS characters)."""
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("WEBVTT"):
        try:
            result = _from_vtt(text)
        except Exception:  # noqa: BLE001 - a malformed file is kept as the text it is
            result = text
    elif stripped[:1] in "{[":
        try:
            result = _from_json(json.loads(text))
        except ValueError:
            result = text
    else:
        result = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return result[:MAX_CHARS]
