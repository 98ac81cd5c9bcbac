"""A plugin that registers a config source without declaring it in bigflow.provides."""

from bigflow.api import hookimpl


class Vault:
    def load(self, env, keys):
        return {"token": "from the vault"}


@hookimpl
def register_config_sources(register):
    register("vault", Vault())
