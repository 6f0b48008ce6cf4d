"""API v1 routers; each module exposes router(deps) -> APIRouter."""
