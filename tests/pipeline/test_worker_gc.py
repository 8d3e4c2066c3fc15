"""The worker's collector policy: the previous task's garbage cycles are collected, what survives is frozen."""

import gc
import weakref

from pipeline.worker_gc import freeze_survivors


class Node:
    pass


def test_cycles_left_by_a_task_are_collected_and_survivors_frozen():
    cycle = Node()
    cycle.self = cycle  # garbage only the cyclic collector can free
    dead = weakref.ref(cycle)
    del cycle
    alive = Node()
    try:
        freeze_survivors()
        assert dead() is None  # collected, not frozen for the rest of the worker's life
        assert gc.get_freeze_count() > 0
        assert not any(o is alive for o in gc.get_objects())  # frozen: later passes do not walk it
        assert isinstance(alive, Node)
    finally:
        gc.unfreeze()  # the test process keeps its usual collector
