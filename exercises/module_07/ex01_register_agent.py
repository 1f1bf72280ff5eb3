"""Exercise 1: register the agent, prompt and settings together, as one versioned model.

An agent in production is more than code: it is a prompt version, retriever settings
(how many documents go into the prompt) and LLM settings (which model, which
temperature). If these change separately you can never say what "version 3" was.
MLflow 3 versions them together: log the agent as a model, with the settings as the
LoggedModel's params and the prompt version linked to it, and register it in the
Model Registry. Releases then move *aliases* (``challenger``, ``champion``) between
versions; MLflow 2's stages (Staging, Production) are deprecated.

Build:

1. ``SupportAgent``, a ``ResponsesAgent``: ``retrieve`` picks documents, ``predict``
   fills the registered prompt and asks the LLM, ``predict_stream`` streams the answer.
2. ``agent_params(config)``: the config as the model's params.
3. ``register_agent(config, documents)``: log and register a new version, and make it
   the challenger.
4. ``promote(model_name, version)``: make a version the champion.
5. ``load_agent(model_name, alias)``: load whatever version an alias points at.

MLflow APIs practised: ``mlflow.pyfunc.ResponsesAgent``, ``mlflow.pyfunc.log_model(
name=, python_model=, registered_model_name=, params=, prompts=, pip_requirements=)``,
``mlflow.genai.load_prompt``, ``MlflowClient().set_registered_model_alias`` /
``delete_registered_model_alias``, ``mlflow.pyfunc.load_model("models:/name@alias")``.

Done looks like this: in the UI, the registered model ``support-agent`` lists its
versions with the ``challenger`` and ``champion`` aliases (and no stage); each
version's LoggedModel shows its params and its prompt version; loading
``models:/support-agent@champion`` answers with exactly the settings that version was
registered with.

The agent calls the LLM through ``openai.OpenAI()``, which reads ``OPENAI_BASE_URL``
and ``OPENAI_API_KEY``; the tests point them at a fake server. Note that logging a
``ResponsesAgent`` runs ``predict`` once on an example request, so the LLM must be
reachable when you log.

Run the checks: ``uv run pytest exercises/module_07/test_ex01_register_agent.py``
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass  # noqa: F401 - asdict helps in agent_params

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401
from mlflow import MlflowClient  # noqa: F401
from mlflow.entities.model_registry import ModelVersion
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import (  # noqa: F401
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
        # TODO: score each document text by len(_words(question) & _words(text)), keep
        #       the best config.top_k (a stable sort keeps ties in order).
        raise NotImplementedError("SupportAgent.retrieve: not written yet (see the TODO above)")

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        """Answer the last user message of ``request``.

        Load the prompt ``config.prompt_uri`` from the registry, fill its ``{{context}}``
        with the retrieved texts joined by blank lines and its ``{{question}}`` with the
        question, send it as one user message to the chat completions API of
        ``openai.OpenAI()`` with ``config.llm_model`` and ``config.temperature``, and
        return the reply as one text output item.
        """
        # TODO: question = _question_of(request); load and format the prompt (inside this
        #       method, so the trace links the prompt version); call the LLM; return
        #       ResponsesAgentResponse(output=[self.create_text_output_item(text, id=...)]).
        raise NotImplementedError("SupportAgent.predict: not written yet (see the TODO above)")

    def predict_stream(self, request: ResponsesAgentRequest):
        """Stream the answer: its text as ``response.output_text.delta`` events (one delta
        for the whole text is fine), then a ``response.output_item.done`` event with the
        full text item."""
        # TODO: compute the answer like predict does, then yield
        #       ResponsesAgentStreamEvent(**self.create_text_delta(text, item_id=...)) and a
        #       ResponsesAgentStreamEvent(type="response.output_item.done", item=...).
        raise NotImplementedError(
            "SupportAgent.predict_stream: not written yet (see the TODO above)"
        )
        yield  # ResponsesAgent requires predict_stream to be a generator: keep a yield in it


def agent_params(config: AgentConfig) -> dict[str, str]:
    """The config as the params of the LoggedModel: ``prompt_uri``, ``retriever_top_k``,
    ``llm_model`` and ``llm_temperature``, each as a string."""
    # TODO: return the four params, each value as a string.
    raise NotImplementedError("agent_params: not written yet (see the TODO above)")


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
    # TODO: log_model(...) returns a ModelInfo whose registered_model_version is the new
    #       version; set the challenger alias on it and return
    #       MlflowClient().get_model_version(model_name, version).
    raise NotImplementedError("register_agent: not written yet (see the TODO above)")


def promote(model_name: str, version: str) -> None:
    """Make ``version`` the ``champion`` of ``model_name``.

    Point the ``champion`` alias at it, and delete the ``challenger`` alias if it
    pointed at that same version (a champion is no longer a challenger).
    """
    # TODO: set the champion alias; read the registered model's aliases and delete the
    #       challenger alias when it points at this version.
    raise NotImplementedError("promote: not written yet (see the TODO above)")


def load_agent(model_name: str = MODEL_NAME, alias: str = CHAMPION):
    """Load the version that ``model_name@alias`` points at, as a pyfunc model."""
    # TODO: mlflow.pyfunc.load_model with a models:/<name>@<alias> URI.
    raise NotImplementedError("load_agent: not written yet (see the TODO above)")
