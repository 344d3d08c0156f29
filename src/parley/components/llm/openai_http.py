"""OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, hosted APIs).

Protocol: POST {base_url}/chat/completions with `"stream": true`; the server answers with
Server-Sent Events, one `data: {json}` line per delta (`choices[0].delta.content`), ending with
`data: [DONE]`. Cancellation closes the HTTP stream, which vLLM and llama.cpp server treat as abort.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator, Callable, Iterator

from parley.cancel import CancelToken
from parley.clock import Clock
from parley.components.llm.base import Message
from parley.errors import EndpointError


class OpenAIChatModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        clock: Clock,
        *,
        api_key: str | None = None,
        max_tokens: int = 160,
        temperature: float = 0.2,
        timeout_s: float = 30.0,
    ) -> None:
        import httpx

        self.name = f"openai:{model}"
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.clock = clock
        self.max_tokens = max_tokens
        self.temperature = temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=5.0))
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm-http")

    def _generate(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        import httpx

        body = {"model": self.model, "messages": messages, "stream": True,
                "max_tokens": max_tokens, "temperature": self.temperature}
        url = f"{self.base_url}/chat/completions"
        try:
            with self._client.stream("POST", url, json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise EndpointError(
                        f"The LLM endpoint {url} answered HTTP {resp.status_code} ({resp.text[:200].strip()}); "
                        "check the model name and API key."
                    )
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        payload = json.loads(data)
                    except ValueError:
                        continue
                    choices = payload.get("choices") or [{}]
                    delta = (choices[0].get("delta") or {}).get("content")
                    if delta:
                        yield delta
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"Could not reach the LLM endpoint at {self.base_url} ({exc.__class__.__name__}); "
                "start the server or point --llm-url at a running one."
            ) from None

    def check(self) -> None:
        """Fail fast with a clear sentence when the endpoint is unreachable."""
        import httpx

        try:
            self._client.get(f"{self.base_url}/models", timeout=5.0)
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"Could not reach the LLM endpoint at {self.base_url} ({exc.__class__.__name__}); "
                "start the server or point --llm-url at a running one."
            ) from None

    def stream(self, messages: list[Message], *, cancel: CancelToken) -> AsyncIterator[str]:
        return self.clock.stream(self._executor, lambda: self._generate(messages, self.max_tokens), cancel)

    async def warm(self, messages: list[Message]) -> None:
        return None  # the server's own prefix cache handles this

    async def prefill_aside(self, messages: list[Message], cancel: CancelToken, on_live: Callable[[], None]) -> bool:
        on_live()  # likewise: a changed prompt head is the server's to cache
        return True

    def close(self) -> None:
        self._client.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
