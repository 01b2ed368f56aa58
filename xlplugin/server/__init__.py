"""xlplugin as an intranet web service (FastAPI + uvicorn): `xlplugin serve`."""
