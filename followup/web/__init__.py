"""The web app: server-rendered pages behind the partner wall.

`followup.web.app.install(app)` adds the pages to the FastAPI app of followup.http. Who
may see what is decided in followup.operations.policy and nowhere else; followup.web.auth turns
those rules into route guards. Kept empty so importing a module of this package loads no FastAPI.
"""
