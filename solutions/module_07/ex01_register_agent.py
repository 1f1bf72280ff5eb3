"""Reference solution for module_07/ex01_register_agent: one agent, versioned as one model."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import mlflow
import openai
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import (
    ResponsesAgentRequest,
    ResponsesAgentResponse,
    ResponsesAgentStreamEvent,
)

MODEL_NAME = "support-agent"
CHALLENGER = "challenger"
CHAMPION = "champion"
PIP_REQUIREMENTS = ["mlflow", "openai"]  # given explicitly: inferring them is slow


@dataclass
class AgentConfig:
    """Everything that makes one version of the agent behave the way it does."""

    prompt_uri: str  # a pinned prompt version, e.g. "prompts:/support/2"
    top_k: int = 2  # retriever: how many documents go into the prompt
    llm_model: str = "gpt-4o-mini"  # LLM: which model answers
    temperature: float = 0.0  # LLM: how freely it answers


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _question_of(request: ResponsesAgentRequest) -> str:
    """The text of the last user message of a Responses request."""
    for item in reversed(request.input):
        if getattr(item, "role", None) == "user":
            content = item.content
            if isinstance(content, str):
                return content
            return " ".join(str(part.get("text", "")) for part in content)
    return ""


class SupportAgent(ResponsesAgent):
    """A small retrieval agent: pick documents, fill the registered prompt, ask the LLM."""

    def __init__(self, config: AgentConfig, documents: dict[str, str]) -> None:
        self.config = config
        self.documents = documents

    def retrieve(self, question: str) -> list[str]:
        """The texts of the ``config.top_k`` documents that share the most distinct words
        (lower-case runs of letters and digits) with the question, best first; ties keep
        the documents' order."""
        asked = _words(question)
        texts = list(self.documents.values())
        ranked = sorted(texts, key=lambda text: -len(asked & _words(text)))  # stable sort
        return ranked[: self.config.top_k]

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        """Answer the last user message of ``request``.

        Load the prompt ``config.prompt_uri`` from the registry, fill its ``{{context}}``
        with the retrieved texts joined by blank lines and its ``{{question}}`` with the
        question, send it as one user message to the chat completions API of
        ``openai.OpenAI()`` with ``config.llm_model`` and ``config.temperature``, and
        return the reply as one text output item.
        """
        text = self._answer(_question_of(request))
        return ResponsesAgentResponse(output=[self.create_text_output_item(text, id="answer")])

    def predict_stream(self, request: ResponsesAgentRequest):
        """Stream the answer: its text as ``response.output_text.delta`` events (one delta
        for the whole text is fine), then a ``response.output_item.done`` event with the
        full text item."""
        text = self._answer(_question_of(request))
        yield ResponsesAgentStreamEvent(**self.create_text_delta(text, item_id="answer"))
        yield ResponsesAgentStreamEvent(
            type="response.output_item.done",
            item=self.create_text_output_item(text, id="answer"),
        )

    def _answer(self, question: str) -> str:
        # Loaded inside the trace that ResponsesAgent opens: the trace links the prompt.
        prompt = mlflow.genai.load_prompt(self.config.prompt_uri)
        filled = prompt.format(context="\n\n".join(self.retrieve(question)), question=question)
        # The client reads OPENAI_BASE_URL and OPENAI_API_KEY: configuration, not code.
        reply = openai.OpenAI().chat.completions.create(
            model=self.config.llm_model,
            temperature=self.config.temperature,
            messages=[{"role": "user", "content": filled}],
        )
        return reply.choices[0].message.content or ""


def agent_params(config: AgentConfig) -> dict[str, str]:
    """The config as the params of the LoggedModel: ``prompt_uri``, ``retriever_top_k``,
    ``llm_model`` and ``llm_temperature``, each as a string."""
    values = asdict(config)
    return {
        "prompt_uri": values["prompt_uri"],
        "retriever_top_k": str(values["top_k"]),
        "llm_model": values["llm_model"],
        "llm_temperature": str(values["temperature"]),
    }


def register_agent(
    config: AgentConfig, documents: dict[str, str], model_name: str = MODEL_NAME
) -> ModelVersion:
    """Log ``SupportAgent(config, documents)`` and register it as a new version of
    ``model_name``, then point the ``challenger`` alias at that version.

    One ``mlflow.pyfunc.log_model`` call does the logging and the registering: give it
    ``name=``, ``registered_model_name=``, the ``agent_params(config)`` as ``params=``,
    the prompt version as ``prompts=[...]`` (which links it to the LoggedModel) and
    ``pip_requirements=PIP_REQUIREMENTS``. Use aliases, never registry stages.

    Returns:
        The new ``ModelVersion``.
    """
    info = mlflow.pyfunc.log_model(
        name="agent",
        python_model=SupportAgent(config, documents),
        registered_model_name=model_name,
        params=agent_params(config),
        prompts=[config.prompt_uri],
        pip_requirements=PIP_REQUIREMENTS,
    )
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_registered_model_alias(model_name, CHALLENGER, version)
    return client.get_model_version(model_name, version)


def promote(model_name: str, version: str) -> None:
    """Make ``version`` the ``champion`` of ``model_name``.

    Point the ``champion`` alias at it, and delete the ``challenger`` alias if it
    pointed at that same version (a champion is no longer a challenger).
    """
    client = MlflowClient()
    client.set_registered_model_alias(model_name, CHAMPION, version)
    aliases = client.get_registered_model(model_name).aliases  # alias -> version
    if str(aliases.get(CHALLENGER)) == str(version):
        client.delete_registered_model_alias(model_name, CHALLENGER)


def load_agent(model_name: str = MODEL_NAME, alias: str = CHAMPION):
    """Load the version that ``model_name@alias`` points at, as a pyfunc model."""
    return mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")
