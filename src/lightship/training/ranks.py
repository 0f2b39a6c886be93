"""One decision for all processes of a run: rank 0 makes it, every other rank receives it (or its error).

Under DDP every process runs ``lightship train`` from the top, and a decision that reads the file system
(which run folder is free) would come out differently in each: rank 1 would find rank 0's new folder and
number itself another. So rank 0 decides once and the others are told, by whichever channel the launch has
before Lightning starts its process group:

- Lightning's own launcher (``--trainer.devices 2``) starts the other ranks from rank 0 *after* the decision,
  copying rank 0's environment: the decision travels in an environment variable.
- torchrun, SLURM or any launcher that starts every process itself: the c10d TCPStore at
  ``MASTER_ADDR:MASTER_PORT`` that ``torch.distributed`` uses for its own rendezvous. Under torchrun its
  agent already serves it; otherwise rank 0 starts it as a multi-tenant store and keeps it, so the process
  group Lightning opens later on the same port shares that server (as ``torch.distributed`` does itself).
- A process group that is already running (a second run in the same script): a broadcast from rank 0.

A failure in rank 0's decision (a folder that must not be overwritten) is sent instead of a value, so the
other ranks stop with the same message rather than wait.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import torch.distributed as dist

from lightship.errors import LightshipError

#: Longest a rank waits for rank 0's decision (rank 0 may still be importing, or decoding a data cache).
TIMEOUT = timedelta(minutes=15)
_ENV_PREFIX = "LIGHTSHIP_AGREED_"
_STORE_PREFIX = "lightship/agreed/"
#: How many decisions of each kind this process made: the n-th call in every rank is the same decision.
_calls: Counter[str] = Counter()
#: Stores this process serves; kept alive so the process group can share the server (multi-tenant).
_served: list[dist.TCPStore] = []


@dataclass(frozen=True)
class World:
    """This process's place among the processes a launcher started (size 1 when it is alone so far)."""

    rank: int
    size: int
    address: str | None = None
    port: int | None = None


def launched_world() -> World:
    """The rank and size of a launch that started every process itself (torchrun, SLURM, a user's script
    setting ``LOCAL_RANK``), read the way Lightning's cluster environments read them; else a world of one."""
    from lightning.fabric.plugins.environments import SLURMEnvironment, TorchElasticEnvironment

    env = os.environ
    if TorchElasticEnvironment.detect():
        return World(int(env["RANK"]), int(env["WORLD_SIZE"]), env.get("MASTER_ADDR"), _port())
    if SLURMEnvironment.detect():
        slurm = SLURMEnvironment()
        return World(slurm.global_rank(), slurm.world_size(), slurm.main_address, slurm.main_port)
    if "LOCAL_RANK" in env and int(env.get("WORLD_SIZE", "1")) > 1:
        local, node = int(env["LOCAL_RANK"]), int(env.get("NODE_RANK", env.get("GROUP_RANK", "0")))
        rank = 0 if local == 0 and node == 0 else max(1, local)
        return World(rank, int(env["WORLD_SIZE"]), env.get("MASTER_ADDR", "127.0.0.1"), _port())
    return World(0, 1)


def _port() -> int | None:
    port = os.environ.get("MASTER_PORT")
    return int(port) if port else None


def agree(kind: str, decide: Callable[[], str]) -> str:
    """Rank 0's ``decide()``, in every process of the run; rank 0's exception is raised in every rank."""
    number = _calls[kind]
    _calls[kind] += 1
    key = f"{kind}/{number}"
    variable = _ENV_PREFIX + f"{kind}_{number}".upper()
    inherited = _inherited(variable)
    if inherited is not None:  # set by the rank 0 that launched this process (Lightning's launcher)
        return _unpack(inherited)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        message = [_pack(decide) if dist.get_rank() == 0 else None]
        dist.broadcast_object_list(message, src=0)
        return _unpack(message[0])
    world = launched_world()
    if world.size > 1 and world.address and world.port:
        return _through_store(world, key, decide)
    message = _pack(decide)
    # Inherited by the ranks Lightning's launcher starts from this process; tagged with this process's id,
    # so any other program it starts later (which inherits the variable too) does not take it as its own.
    os.environ[variable] = json.dumps({"launcher": os.getpid(), "message": message})
    return _unpack(message)


def _inherited(variable: str) -> str | None:
    """The decision in ``variable`` if the process that made it started this one as one of its ranks:
    Lightning's launcher gives its children ``LOCAL_RANK`` 1, 2, ...; any other program the deciding
    process starts (which inherits the variable too) decides for itself."""
    if variable not in os.environ or int(os.environ.get("LOCAL_RANK", "0") or 0) < 1:
        return None
    content = json.loads(os.environ[variable])
    return content["message"] if content.get("launcher") == os.getppid() else None


def _through_store(world: World, key: str, decide: Callable[[], str]) -> str:
    env = os.environ
    agent = env.get("TORCHELASTIC_USE_AGENT_STORE") == "True" and env.get("MASTER_PORT") == str(world.port)
    serve = world.rank == 0 and not agent
    try:
        store = dist.TCPStore(
            world.address, world.port, world.size, is_master=serve, timeout=TIMEOUT, multi_tenant=True
        )
    except (RuntimeError, OSError) as exc:
        raise LightshipError(
            f"rank {world.rank} cannot reach the other processes at {world.address}:{world.port} to agree "
            f"on the run folder ({exc}); check MASTER_ADDR/MASTER_PORT"
        ) from exc
    if serve:
        _served.append(store)
    if world.rank == 0:
        message = _pack(decide)
        store.set(_STORE_PREFIX + key, message)
        return _unpack(message)
    try:
        message = store.get(_STORE_PREFIX + key).decode()
    except RuntimeError as exc:  # c10d raises RuntimeError (DistStoreError) on timeout
        raise LightshipError(
            f"rank {world.rank} waited {TIMEOUT} for rank 0 to choose the run folder; did rank 0 fail?"
        ) from exc
    return _unpack(message)


def _pack(decide: Callable[[], str]) -> str:
    try:
        return json.dumps({"value": decide()})
    except LightshipError as exc:
        return json.dumps({"error": str(exc)})


def _unpack(message: str) -> str:
    content = json.loads(message)
    if "error" in content:
        raise LightshipError(content["error"])
    return content["value"]
