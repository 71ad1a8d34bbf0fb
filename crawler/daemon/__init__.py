"""The collector daemon (`kyran run`): the scheduler and its jobs, long-lived services, and what
it exposes about itself (health, metrics, logs, alerts)."""
