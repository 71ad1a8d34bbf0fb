"""The collector daemon (`kyran run`) and what keeps an eye on it: scheduling, health and
metrics, logs, alerts and retention."""
