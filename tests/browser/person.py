"""How a person operates a page: with a mouse, or with the keyboard only.

A journey is written once against these verbs and runs both ways. The keyboard person never clicks:
it moves focus with Tab (as a keyboard user does, so an element that Tab cannot reach fails the test),
types into fields, ticks boxes with Space, picks radio buttons with the arrow keys, picks options by
typing their first letters, and presses Enter on links and buttons.
"""

from __future__ import annotations

from typing import Any

MAX_TABS = 250  # the longest page (every list with its "kandidaten" toggle) needs about 60


class Person:
    name = "?"

    def click(self, target: Any) -> None:
        """Follow a link or press a button."""
        raise NotImplementedError

    def start(self, target: Any) -> None:
        """Press a button whose answer takes a while, and look at the page before the answer comes."""
        self.click(target)

    def fill(self, field: Any, text: str) -> None:
        raise NotImplementedError

    def check(self, checkbox: Any) -> None:
        raise NotImplementedError

    def choose(self, radio: Any) -> None:
        """Pick one radio button of its group."""
        raise NotImplementedError

    def select(self, select: Any, text: str) -> None:
        """Pick the option of a <select> whose visible text starts with ``text``."""
        raise NotImplementedError


class Mouse(Person):
    name = "mouse"

    def click(self, target: Any) -> None:
        target.click()

    def start(self, target: Any) -> None:
        target.click(no_wait_after=True)  # the next page is still on its way

    def fill(self, field: Any, text: str) -> None:
        field.click()
        field.fill(text)

    def check(self, checkbox: Any) -> None:
        checkbox.check()

    def choose(self, radio: Any) -> None:
        radio.check()

    def select(self, select: Any, text: str) -> None:
        value = select.evaluate("(el, t) => [...el.options].find(o => o.text.startsWith(t))?.value", text)
        assert value is not None, f"no option starts with {text!r}"
        select.select_option(value=value)


def is_focused(target: Any) -> bool:
    return bool(target.evaluate("el => el === document.activeElement"))


class Keyboard(Person):
    name = "keyboard"

    def focus(self, target: Any) -> None:
        """Press Tab until ``target`` has focus; fails when Tab never reaches it."""
        target.wait_for(state="visible")
        keyboard = target.page.keyboard
        for _ in range(MAX_TABS):
            if is_focused(target):
                return
            keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {target} (pressed {MAX_TABS} times): not keyboard-operable")

    def click(self, target: Any) -> None:
        self.focus(target)
        target.page.keyboard.press("Enter")

    def fill(self, field: Any, text: str) -> None:
        self.focus(field)
        field.page.keyboard.type(text)
        assert field.input_value() == text, f"typed {text!r}, the field holds {field.input_value()!r}"

    def check(self, checkbox: Any) -> None:
        self.focus(checkbox)
        checkbox.page.keyboard.press("Space")
        assert checkbox.is_checked(), "Space did not tick the box"

    def choose(self, radio: Any) -> None:
        # Tab enters a radio group once (on its first or checked button); the arrows move within it.
        name = radio.get_attribute("name")
        page = radio.page
        keyboard = page.keyboard
        for _ in range(MAX_TABS):
            if page.evaluate("n => document.activeElement?.type === 'radio' && document.activeElement.name === n",
                             name):
                break
            keyboard.press("Tab")
        else:
            raise AssertionError(f"Tab never reached the radio group {name!r}")
        size = page.locator(f'input[type="radio"][name="{name}"]').count()
        for _ in range(size + 1):
            if radio.is_checked():
                return
            keyboard.press("ArrowDown")
        raise AssertionError(f"the arrow keys never reached {radio}")

    def select(self, select: Any, text: str) -> None:
        self.focus(select)
        # A closed <select> with focus picks the option whose text starts with what is typed quickly.
        select.page.keyboard.type(text)
        chosen = select.evaluate("el => el.options[el.selectedIndex]?.text") or ""
        assert chosen.startswith(text), f"typing {text!r} into the list chose {chosen!r}"
