"""OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, hosted APIs).

Protocol: POST {base_url}/chat/completions with `"stream": true`; the server answers with
Server-Sent Events, one `data: {json}` line per delta (`choices[0].delta.content`), ending with
`data: [DONE]`. Cancellation closes the HTTP stream, which vLLM and llama.cpp server treat as abort.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator, Callable, Iterator

from parley.cancel import CancelToken
from parley.clock import Clock
from parley.components.llm.base import Message
from parley.errors import EndpointError

RETRIES = 2  # a refused or timed-out request, before any token, is tried again
BACKOFF_S = 0.25  # then 0.5 s


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
        allow_plain_http: bool = False,
    ) -> None:
        import httpx

        from parley.config import secure_url

        if api_key and not allow_plain_http and not secure_url(base_url):
            raise EndpointError(f"Refusing to send the API key over plain http to {base_url}, where it can be read "
                                "on the way; use https, or set llm.allow_plain_http = true if the network is trusted.")

        self.name = f"openai:{model}"
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.clock = clock
        self.max_tokens = max_tokens
        self.temperature = temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_s = timeout_s
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=5.0))
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm-http")

    def _generate(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """The reply's text deltas. A refused connection, a timeout or a 5xx/429 before the first
        token is retried (RETRIES times, backing off); an error after it, or a stream with no text in
        it, raises EndpointError naming the cause."""
        import httpx

        body = {"model": self.model, "messages": messages, "stream": True,
                "max_tokens": max_tokens, "temperature": self.temperature}
        url = f"{self.base_url}/chat/completions"
        for attempt in range(RETRIES + 1):
            yielded, junk = False, 0
            try:
                with self._client.stream("POST", url, json=body) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        error = EndpointError(
                            f"The LLM endpoint {url} answered HTTP {resp.status_code} ({resp.text[:200].strip()}); "
                            "check the model name and API key.")
                        if resp.status_code in (429, 500, 502, 503, 504) and attempt < RETRIES:
                            time.sleep(BACKOFF_S * 2 ** attempt)
                            continue
                        raise error
                    for line in resp.iter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        try:
                            choices = json.loads(data).get("choices") or [{}]
                            delta = (choices[0].get("delta") or {}).get("content")
                        except (ValueError, AttributeError, IndexError, TypeError):
                            junk += 1
                            continue
                        if delta:
                            yielded = True
                            yield delta
                if not yielded:
                    raise EndpointError(f"The LLM endpoint {url} sent no reply text"
                                        + (f" ({junk} unreadable event(s))" if junk else "")
                                        + "; check that it serves OpenAI-style chat completions.")
                return
            except (httpx.ConnectError, httpx.TimeoutException) as exc:
                if yielded or attempt == RETRIES:
                    if isinstance(exc, httpx.ConnectError):
                        raise EndpointError(
                            f"Could not reach the LLM endpoint at {self.base_url} ({exc.__class__.__name__}); "
                            "start the server or point --llm-url at a running one.") from None
                    raise EndpointError(
                        f"The LLM endpoint at {self.base_url} did not answer within {self.timeout_s:g} s "
                        f"({exc.__class__.__name__}, {attempt + 1} tries); check the server's load, or raise "
                        "llm.timeout_s.") from None
                time.sleep(BACKOFF_S * 2 ** attempt)
            except httpx.HTTPError as exc:
                raise EndpointError(
                    f"The LLM endpoint at {self.base_url} failed mid-reply ({exc.__class__.__name__}); "
                    "check the server.") from None

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

    def stream(self, messages: list[Message], *, cancel: CancelToken, background: bool = False,
               prefix: str = "") -> AsyncIterator[str]:
        """`prefix` goes as a final assistant message: llama.cpp's server continues it (assistant
        prefill); a server that does not starts a fresh message after it."""
        if prefix:
            messages = [*messages, {"role": "assistant", "content": prefix}]
        return self.clock.stream(self._executor, lambda: self._generate(messages, self.max_tokens), cancel)

    def _classify(self, messages: list[Message], options: tuple[str, ...]) -> list[float]:
        """One token with its top log-probabilities (vLLM, llama.cpp server and OpenAI return them);
        a server that returns none gives its answer as certain."""
        import math

        import httpx

        body = {"model": self.model, "messages": messages, "max_tokens": 1, "temperature": 0.0,
                "logprobs": True, "top_logprobs": 10}
        url = f"{self.base_url}/chat/completions"
        try:
            resp = self._client.post(url, json=body)
            resp.raise_for_status()
            choice = resp.json()["choices"][0]
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            raise EndpointError(f"The LLM endpoint {url} could not score a passage ({exc.__class__.__name__}); "
                                "check the server.") from None
        tops = (((choice.get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs")) or []
        if not tops:
            answer = ((choice.get("message") or {}).get("content") or "").strip().lower()
            return [1.0 if answer.startswith(o) else 0.0 for o in options]
        mass = [sum(math.exp(t["logprob"]) for t in tops if t["token"].strip().lower() == o) for o in options]
        total = sum(mass)
        return [m / total for m in mass] if total > 0 else [1.0 / len(options)] * len(options)

    async def classify(self, messages: list[Message], options: tuple[str, ...]) -> list[float]:
        return await self.clock.compute(self._executor, self._classify, messages, options)

    async def warm(self, messages: list[Message]) -> None:
        return None  # the server's own prefix cache handles this

    async def prefill_aside(self, messages: list[Message], cancel: CancelToken, on_live: Callable[[], None]) -> bool:
        on_live()  # likewise: a changed prompt head is the server's to cache
        return True

    def close(self) -> None:
        self._client.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
