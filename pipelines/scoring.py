"""Chain step *score*: a verdict for every new or edited post, kept in the `verdict` table.

`DetectorHolder` owns the detector. Lexicons are analysts' data and can be broken by an edit: a
load that fails keeps the detector already running, or falls back to the last lexicons that
loaded well (a copy kept beside the store), and says so in the log with the file, line and reason.
A set of files that loads but lacks concepts the rules need (a file deleted or renamed) is such a
failure too: it would switch detection off in silence, so it is never used nor saved as the good
copy. Without a good copy to fall back to, the error is raised: nothing is scored wrongly.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.models import Verdict as VerdictRow
from detection.config import DetectionConfig
from detection.lexicon import LexiconError
from detection.model import ModelError
from detection.scorer import Detector
from detection.verdict import Verdict
from pipelines.work import PostWork

log = logging.getLogger(__name__)
BUNDLED_LEXICONS = Path(__file__).resolve().parents[1] / "detection" / "lexicons"


class LexiconIncomplete(LexiconError):
    """Lexicon files that load but lack concepts the detection rules need."""

    def __init__(self, folder: Path, missing: list[str]) -> None:
        self.path, self.line = str(folder), 0
        self.reason = (f"the rules need concepts no lexicon file defines: {', '.join(missing)} "
                       "(was a file deleted or renamed?)")
        ValueError.__init__(self, f"{folder}: {self.reason}")


def _complete(detector: Detector, folder: Path) -> Detector:
    if detector.missing_concepts:
        raise LexiconIncomplete(folder, detector.missing_concepts)
    return detector


def last_good_lexicons(config) -> Path:
    """Where the copy of the last lexicons that loaded well is kept (beside the captures)."""
    return config.captures_path.parent / "lexicons.last-good"


class DetectorHolder:
    """Loads the detector, keeps the last good one, and reloads when lexicon files change."""

    def __init__(self, config: DetectionConfig, last_good_dir: Path, report: bool = True) -> None:
        self.config = config
        self.report = report  # log a fallback (a check that runs before the chain does not)
        self.last_good_dir = Path(last_good_dir)
        self._detector: Detector | None = None
        self._stamp: tuple | None = None
        self.problem: str | None = None  # why the lexicons in use are not the configured ones

    @property
    def lexicon_dir(self) -> Path:
        return self.config.lexicon_dir or BUNDLED_LEXICONS

    def _files_stamp(self) -> tuple:
        """The lexicon files and the model file in use (``kyran model use`` swaps it in)."""
        return _stamp_of(self.lexicon_dir), _model_stamp(self.config)

    def get(self) -> Detector:
        if self._detector is None:
            self.reload()
        return self._detector

    def reload_if_changed(self) -> bool:
        """Reload when a lexicon file or the model file changed since the last load (for a
        long-running daemon)."""
        if self._stamp == self._files_stamp():
            return False
        return self.reload()

    def reload(self) -> bool:
        """Load the configured lexicons; True when they are now in use."""
        self._stamp = self._files_stamp()
        try:
            detector = _complete(Detector.from_config(self.config), self.lexicon_dir)
        except LexiconError as exc:
            self._fall_back(exc)
            return False
        except ModelError as exc:
            if self._detector is None:
                raise
            self.problem = f"{exc}: keeping the model already loaded"
            log.error("model error: %s", self.problem)
            return False
        self._detector, self.problem = detector, None
        self._save_last_good()
        return True

    def _fall_back(self, exc: LexiconError) -> None:
        if self._detector is not None:
            self.problem = f"{exc}: keeping the lexicons already loaded"
        elif any(self.last_good_dir.glob("*.toml")):
            config = self.config.model_copy(update={"lexicon_dir": self.last_good_dir})
            self._detector = _complete(Detector.from_config(config), self.last_good_dir)
            saved = datetime.fromtimestamp(self.last_good_dir.stat().st_mtime, timezone.utc)
            self.problem = (f"{exc}: using the last lexicons that loaded well, saved "
                            f"{saved:%Y-%m-%d %H:%M} UTC in {self.last_good_dir}")
        else:
            raise exc
        if self.report:
            log.error("lexicon error: %s. Fix the file; scoring goes on meanwhile.",
                      self.problem)

    def _save_last_good(self) -> None:
        """Keep a copy of lexicons that loaded well. Several crawls may do this at once: each
        fills its own staging folder and swaps it in whole, so a reader never sees half a
        copy; a copy that fails is logged and never fails the load that succeeded."""
        if self.lexicon_dir.resolve() == self.last_good_dir.resolve():
            return
        if self._files_stamp()[0] == _stamp_of(self.last_good_dir):
            return  # the copy is already these files (copy2 keeps sizes and times)
        parent = self.last_good_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lexicons-", dir=parent))
        retired = Path(tempfile.mkdtemp(prefix=".lexicons-old-", dir=parent))
        try:
            for path in self.lexicon_dir.glob("*.toml"):
                shutil.copy2(path, staging / path.name)
            try:
                os.replace(self.last_good_dir, retired / "copy")
            except FileNotFoundError:
                pass
            os.replace(staging, self.last_good_dir)
        except OSError as exc:  # another crawl swapped its copy in at the same moment
            log.info("kept the lexicons copy another process saved in %s (%s)",
                     self.last_good_dir, exc)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(retired, ignore_errors=True)


def _stamp_of(folder: Path) -> tuple:
    """Names, modification times and sizes of a folder's lexicon files (a file that vanishes
    while it is read, as another crawl swaps its copy in, counts as changed)."""
    stamp = []
    for path in folder.glob("*.toml"):
        try:
            info = path.stat()
        except FileNotFoundError:
            return ("changed while read",)
        stamp.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(sorted(stamp))


def _model_stamp(config: DetectionConfig) -> tuple:
    """Which model file is in use, its modification time and size."""
    path = config.resolved_model_path()
    try:
        info = path.stat() if path is not None else None
    except FileNotFoundError:
        return (str(path), "changed while read")
    return (str(path), info.st_mtime_ns, info.st_size) if info else ()


def verdict_fields(verdict: Verdict) -> dict:
    """The `verdict` row's columns: the rules that fired with their spans, the indicators, and
    where the learned model decided, its strongest reasons in words (``contributions``)."""
    data = verdict.to_dict()
    return {"category": verdict.category, "score": verdict.score, "hits": data["hits"],
            "indicators": data["indicators"], "scores": data["scores"],
            "contributions": data["contributions"], "model_version": verdict.model_version,
            "scored_at": datetime.now(timezone.utc)}


def stored_verdict(session: Session, subject_type: str, subject_id: int) -> VerdictRow | None:
    return session.scalars(select(VerdictRow).where(
        VerdictRow.subject_type == subject_type, VerdictRow.subject_id == subject_id)
    ).one_or_none()


def save_verdict(session: Session, subject_type: str, subject_id: int, verdict: Verdict,
                 existing: VerdictRow | None) -> VerdictRow:
    """Insert the verdict (`existing` None) or overwrite the stored one."""
    if existing is None:
        existing = VerdictRow(subject_type=subject_type, subject_id=subject_id,
                              **verdict_fields(verdict))
        session.add(existing)
    else:
        for key, value in verdict_fields(verdict).items():
            setattr(existing, key, value)
    return existing


class ScoreStep:
    name = "score"

    def __init__(self, detectors: DetectorHolder) -> None:
        self.detectors = detectors

    def run(self, session: Session, works: list[PostWork]) -> None:
        detector = self.detectors.get()
        todo = [w for w in works if w.change in ("new", "edited") and w.verdict is None]
        if not todo:
            return
        session.flush()
        edited_ids = [w.post.id for w in todo if w.change == "edited"]
        existing = {}
        if edited_ids:
            existing = {row.subject_id: row for row in session.scalars(select(VerdictRow).where(
                VerdictRow.subject_type == "post", VerdictRow.subject_id.in_(edited_ids)))}
        fresh = []
        verdicts = detector.score_many([w.post.text for w in todo])  # the model weighs a batch
        for work, verdict in zip(todo, verdicts, strict=True):
            work.verdict = verdict
            if work.post.id in existing:
                save_verdict(session, "post", work.post.id, work.verdict,
                             existing[work.post.id])
            else:
                fresh.append({"subject_type": "post", "subject_id": work.post.id,
                              **verdict_fields(work.verdict)})
        if fresh:  # one multi-row INSERT: the ORM would insert row by row
            session.execute(VerdictRow.__table__.insert(), fresh)
