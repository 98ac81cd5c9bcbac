"""Builtin plugin: core's artifact builders (package, requirements, image) and the ``image`` deploy target."""

from __future__ import annotations

from bigflow.plugins import hookimpl


@hookimpl
def register_artifact_builders(register):
    from bigflow.builders.image import ImageBuilder
    from bigflow.builders.package import PackageBuilder
    from bigflow.builders.requirements import RequirementsBuilder

    register("requirements", RequirementsBuilder())
    register("package", PackageBuilder())
    register("image", ImageBuilder())


@hookimpl
def register_deploy_targets(register):
    from bigflow.builders.image import ImageTarget

    register("image", ImageTarget())
