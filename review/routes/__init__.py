"""The review app's route modules: each has a `router` (an APIRouter); `create_app` includes
every module named in ROUTERS, in this order."""

ROUTERS = [
    "review.routes.health",
    "review.routes.auth",
    "review.routes.admin",
    "review.routes.queue",
    "review.routes.candidates",
    "review.routes.bulk",
    "review.routes.dashboard",
    "review.routes.entities",
    "review.routes.sources",
    "review.routes.media",
    "review.routes.captures",
    "review.routes.export",
    "review.routes.packages",
    "review.routes.api",
    "review.routes.exchange",
]
