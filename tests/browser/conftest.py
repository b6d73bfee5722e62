from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: Playwright's own browser download is impossible offline.
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    # Sync Playwright keeps an asyncio loop running in the main thread; the tests' own ORM calls
    # (and live_server's) are still synchronous, so Django's async-safety guard is lifted from the
    # first browser test on. Browser tests run last, so no other test sees this.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def pytest_collection_modifyitems(items):
    # Collection hooks see every item of the session: mark only the ones in this folder.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
