"""Configuration of detection: the ``[detection]`` section of ``kyran.toml``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["BUNDLED_MODEL", "CURRENT_MODEL", "DetectionConfig"]

BUNDLED_MODEL = Path(__file__).resolve().parent / "models" / "default.npz"
CURRENT_MODEL = Path("var") / "models" / "current.npz"  # against the config file's directory


class DetectionConfig(BaseModel):
    """Thresholds, data locations and weights used by :class:`detection.scorer.Detector`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sale_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="A post (or source) whose sale score reaches this is categorised 'sale'. "
                    "Unset: the model's own operating point, recorded in its file when it was "
                    "trained (0.5 for the rules alone).")
    recruitment_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="A post (or source) whose recruitment score reaches this is categorised "
                    "'recruitment' (unset: the model's operating point, 0.5 for the rules "
                    "alone). When both categories pass, the higher score wins.")
    lexicon_dir: Path | None = Field(
        None,
        description="Directory of lexicon TOML files; None uses the lexicons bundled in "
                    "detection/lexicons/.")
    model_path: Path | None = Field(
        None,
        description="A model saved by 'kyran train' (its .npz file); None uses the model bundled "
                    "in detection/models/default.npz. A missing file is an error, not a silent "
                    "fallback.")
    current_model: Path | None = Field(
        None,
        description="The model switched on by 'kyran model use' (a copy it writes); used when "
                    "it exists and model_path is unset. Loading kyran.toml sets it to "
                    "var/models/current.npz beside the file; unset, only model_path or the "
                    "bundled model are used.")
    rules_only: bool = Field(
        False,
        description="Score with the rules alone and load no model (model_path must then be "
                    "unset).")
    model_weight: float = Field(
        0.35, ge=0.0, le=1.0,
        description="Only for a first-format model (kyran-tfidf-lr/1, text n-grams alone): its "
                    "share in a category score, score = (1 - w) * rules + w * model. A "
                    "second-format model reads the rules as features and gives the score itself.")
    explain_top: int = Field(
        5, ge=0, le=50,
        description="Where the model decides a category, how many of its strongest reasons the "
                    "verdict lists.")
    proximity: int = Field(
        400, ge=10, le=100_000,
        description="Two pieces of evidence combine in a rule only if they are at most this many "
                    "characters apart in the original text.")
    score_midpoint: float = Field(
        2.5, gt=0.0, le=1000.0,
        description="Rule evidence (sum of fired rule weights minus context penalties) that maps "
                    "to a score of 0.5.")
    score_steepness: float = Field(
        1.6, gt=0.0, le=1000.0,
        description="Steepness of the logistic curve that turns rule evidence into a score.")
    source_share_saturation: float = Field(
        0.2, gt=0.0, le=1.0,
        description="Source level: the share of a source's posts flagged in a category at which "
                    "its posts count as full evidence (one shop post among a thousand news posts "
                    "counts for little).")
    source_min_posts: int = Field(
        3, ge=1, le=1_000_000,
        description="Source level: posts are weighed as if there were at least this many, so a "
                    "source with one flagged post out of one is not certain.")

    @model_validator(mode="after")
    def _paths_exist(self) -> DetectionConfig:
        if self.lexicon_dir is not None and not self.lexicon_dir.is_dir():
            raise ValueError(f"lexicon_dir {self.lexicon_dir} is not a directory")
        if self.model_path is not None and not self.model_path.is_file():
            raise ValueError(f"model_path {self.model_path} is not a file")
        if self.rules_only and self.model_path is not None:
            raise ValueError("rules_only and model_path exclude each other")
        return self

    def resolved_model_path(self) -> Path | None:
        """The model file to load: none with ``rules_only``, else ``model_path``, else the
        switched-on ``current_model`` where it exists, else the bundled one."""
        if self.rules_only:
            return None
        if self.model_path is not None:
            return self.model_path
        if self.current_model is not None and self.current_model.is_file():
            return self.current_model
        return BUNDLED_MODEL
