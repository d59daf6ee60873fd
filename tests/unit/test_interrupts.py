"""An interrupt is not lost when the code it lands in swallows the KeyboardInterrupt."""

from __future__ import annotations

import os
import signal

import pytest

from smx_validator.interrupts import interruptible, raise_if_interrupted


def test_an_interrupt_swallowed_by_library_code_is_raised_again_at_the_next_poll():
    with interruptible():
        # GIVEN a SIGTERM that lands in code catching BaseException (as some cleanups do)
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next statement
            pytest.fail("the handler did not raise")
        except KeyboardInterrupt:  # the library's swallowing, reproduced
            pass
        # WHEN the wait loop polls THEN the interrupt surfaces again
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()


def test_without_an_interrupt_polling_does_nothing():
    with interruptible():
        raise_if_interrupted()
