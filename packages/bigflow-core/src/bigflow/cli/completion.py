"""``bigflow completion bash|zsh|fish``: the shell completion script of ``bigflow``."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script of SHELL (commands, options, plugin commands).

    \b
    bash:  eval "$(bigflow completion bash)"   # in ~/.bashrc
    zsh:   eval "$(bigflow completion zsh)"    # in ~/.zshrc
    fish:  bigflow completion fish > ~/.config/fish/completions/bigflow.fish
    """
    from click.shell_completion import get_completion_class

    from bigflow.cli.app import cli

    completer = get_completion_class(shell)
    assert completer is not None  # click ships bash, zsh and fish
    click.echo(completer(cli, {}, "bigflow", "_BIGFLOW_COMPLETE").source())
