"""The demo organisation, as data: teams, people, models and their version histories.

build.py turns this into rows by calling the services, so every row it creates has its
audit event. Everything here is fictional.
"""

from dataclasses import dataclass, field

# One password for every demo login. Printed by `demo` and `rundemo`, documented in the
# README, and only ever used when DEBUG is on (otherwise random passwords are generated).
DEMO_PASSWORD = "modelgate-demo"

# The marker that says "the demo organisation is already here".
MARKER_TEAM = "Fraud & Risk"


# A group of approvers: the critical AML model needs a third production approver, and
# names this group rather than a person so the committee's membership can change.
MODEL_RISK_GROUP = "Model Risk Committee"


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    role: str  # shown in the logins table
    teams: tuple[str, ...] = ()
    maintains: tuple[str, ...] = ()  # of `teams`, the ones this person maintains
    superuser: bool = False
    auditor: bool = False
    governance: bool = False  # in the Governance group: names approvers, publishes policies
    groups: tuple[str, ...] = ()  # other groups (approver grants can name a group)


TEAMS = [
    ("Fraud & Risk", "Payment fraud, chargebacks, AML and credit risk models."),
    ("Search & Recommendations", "Product search ranking, query understanding and the home feed."),
    ("Customer Care NLP", "Language models behind the support inbox and agent assist."),
    ("Vision", "Document understanding and product imagery."),
]

PEOPLE = [
    Person("admin", "Ada", "Admin", "platform admin (superuser)", superuser=True),
    Person(
        "priya",
        "Priya",
        "Raman",
        "data scientist, maintains Fraud & Risk",
        teams=("Fraud & Risk",),
        maintains=("Fraud & Risk",),
    ),
    Person("marco", "Marco", "Bianchi", "data scientist", teams=("Fraud & Risk",)),
    Person("chen", "Chen", "Wei", "ML engineer", teams=("Search & Recommendations",)),
    Person(
        "lena",
        "Lena",
        "Novak",
        "data scientist",
        teams=("Search & Recommendations", "Customer Care NLP"),
    ),
    Person("sofia", "Sofia", "Alvarez", "data scientist", teams=("Customer Care NLP",)),
    Person("omar", "Omar", "Haddad", "ML engineer", teams=("Vision",)),
    Person(
        "grace",
        "Grace",
        "Okafor",
        "approver (Fraud & Risk, Vision)",
    ),
    Person(
        "tomas",
        "Tomas",
        "Lindqvist",
        "approver (Fraud & Risk, Vision)",
    ),
    Person(
        "dmitri",
        "Dmitri",
        "Petrov",
        "approver (Search, Customer Care)",
    ),
    Person(
        "nadia",
        "Nadia",
        "Karimi",
        "approver (Search, Customer Care, Model Risk Committee)",
        groups=(MODEL_RISK_GROUP,),
    ),
    Person("helen", "Helen", "Brandt", "governance (Governance group)", governance=True),
    Person("audrey", "Audrey", "Laurent", "auditor (Auditors group)", auditor=True),
]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    team: str
    owner: str  # username; also the one who registers the versions
    description: str
    purpose: str
    license: str
    classification: str
    coverage: str
    tags: tuple[str, ...]
    labels: tuple[str, ...]
    frameworks: tuple[str, ...]  # one per label, or a single one for all
    flavor: str
    metric_family: str
    repo: str
    datasets: tuple[tuple[str, str], ...]  # (dataset, classification)
    # "full": every section from v1; "growing": 3 sections at v1, all at the last;
    # "partial": 4 sections from the second version; "empty": never filled in.
    card: str
    facts: dict[str, str] = field(default_factory=dict)
    # {label: [(model name, version label, relation), ...]}
    parents: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    uploads: tuple[str, ...] = ()  # labels that get a small uploaded artifact
    no_artifact: tuple[str, ...] = ()  # labels registered before the artifact exists
    run_system: str = "mlflow"
    risk_tier: str = "medium"  # low / medium / high / critical: selects the policies
    # A "full" card's newest version normally leaves some inherited sections unreviewed,
    # as a fresh retrain would; True reviews them all, so the version can pass every gate.
    newest_card_complete: bool = False


FINE = "fine_tuned_from"
DERIVED = "derived_from"

MODELS = [
    # --- Fraud & Risk ---------------------------------------------------------------
    ModelSpec(
        name="card-fraud-scorer",
        team="Fraud & Risk",
        risk_tier="high",
        owner="priya",
        description=(
            "Gradient-boosted trees scoring every card-not-present payment for fraud "
            "risk from 240 transaction, device and merchant features."
        ),
        purpose=(
            "Decide at checkout whether a card payment is approved, sent to manual "
            "review, or declined. Drives roughly 4 million decisions a day."
        ),
        license="proprietary",
        classification="restricted",
        coverage=(
            "Out-of-time hold-out (last 6 weeks), sliced by country, card network, "
            "merchant category and ticket size; fairness checks by card-holder age band."
        ),
        tags=("fraud", "payments", "tabular", "real-time"),
        labels=("1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"),
        frameworks=("xgboost",),
        flavor="xgboost.Booster",
        metric_family="binary",
        repo="https://git.example.com/risk/card-fraud",
        datasets=(
            ("payments.transactions", "restricted"),
            ("payments.chargebacks", "confidential"),
        ),
        card="full",
        facts={
            "architecture": "XGBoost, 900 trees of depth 8, monotone constraints on amount",
            "inputs": "transaction amount and currency, device fingerprint, merchant history, "
            "velocity features over 1h/24h/7d",
            "output": "a fraud probability in [0, 1]; thresholds are set per market",
            "training": "18 months of card-not-present payments with chargeback labels "
            "matured for 90 days; 0.4% positive rate, down-sampled negatives",
            "risk": "false declines hit good customers; thresholds differ by market and are "
            "reviewed monthly by the fraud operations team",
        },
        parents={"2.0.0": (("card-fraud-scorer", "1.2.0", DERIVED),)},
        uploads=("1.0.0", "2.1.0"),
        newest_card_complete=True,  # 2.1.0 is the README's walk: ready for production
    ),
    ModelSpec(
        name="chargeback-predictor",
        team="Fraud & Risk",
        risk_tier="medium",
        owner="marco",
        description=(
            "Predicts which settled payments will turn into a chargeback within 120 days, "
            "using the fraud scorer's feature set plus dispute history."
        ),
        purpose="Prioritise pre-dispute outreach and set merchant reserve levels.",
        license="proprietary",
        classification="confidential",
        coverage="Hold-out of Q2 settlements; slices by merchant size and dispute reason code.",
        tags=("fraud", "payments", "tabular", "batch"),
        labels=("0.9.0", "1.0.0", "1.1.0"),
        frameworks=("lightgbm",),
        flavor="lightgbm.Booster",
        metric_family="binary",
        repo="https://git.example.com/risk/chargebacks",
        datasets=(("payments.settlements", "confidential"), ("payments.disputes", "confidential")),
        card="growing",
        facts={
            "architecture": "LightGBM, 400 leaves, trained nightly",
            "inputs": "settlement records, merchant dispute rate, the card-fraud-scorer features",
            "output": "probability of a chargeback within 120 days",
            "training": "two years of settled payments joined with dispute outcomes",
            "risk": "merchants with little history get noisy scores; reserves are capped",
        },
        parents={"1.0.0": (("card-fraud-scorer", "1.2.0", DERIVED),)},
    ),
    ModelSpec(
        name="aml-transaction-monitor",
        team="Fraud & Risk",
        risk_tier="critical",
        owner="priya",
        description=(
            "Flags account activity patterns consistent with money laundering (structuring, "
            "rapid movement of funds, mule accounts) for the financial crime team."
        ),
        purpose="Generate alerts for anti-money-laundering investigators; regulatory control.",
        license="proprietary",
        classification="restricted",
        coverage=(
            "Investigator-labelled alerts from the last 12 months; typology slices "
            "(structuring, mule, trade-based); false-negative review by compliance."
        ),
        tags=("aml", "compliance", "graph", "batch"),
        labels=("1.0.0", "1.0.1", "1.1.0", "2.0.0"),
        frameworks=("sklearn", "sklearn", "sklearn", "pytorch"),
        flavor="",
        metric_family="binary",
        repo="https://git.example.com/risk/aml-monitor",
        datasets=(
            ("core.account_movements", "restricted"),
            ("fincrime.alert_outcomes", "restricted"),
        ),
        card="full",
        facts={
            "architecture": "v1: isolation forest plus logistic regression; v2: a graph "
            "neural network over the account-transfer graph",
            "inputs": "daily aggregates of account movements and counterparties",
            "output": "an alert score and the typology that triggered it",
            "training": "alerts closed by investigators with a disposition, 2022-2024",
            "risk": "a missed alert is a regulatory breach; recall is the primary metric",
        },
        parents={"2.0.0": (("aml-transaction-monitor", "1.1.0", DERIVED),)},
        uploads=("1.0.1",),
    ),
    ModelSpec(
        name="credit-limit-recommender",
        team="Fraud & Risk",
        risk_tier="high",
        owner="marco",
        description="Recommends an initial credit limit for new pay-later customers.",
        purpose="Set the starting limit shown in the pay-later onboarding flow.",
        license="proprietary",
        classification="confidential",
        coverage="Back-test on 2023 cohorts; slices by income band and region.",
        tags=("credit", "tabular", "regression"),
        labels=("0.1.0", "0.2.0", "0.3.0"),
        frameworks=("xgboost",),
        flavor="xgboost.XGBRegressor",
        metric_family="regression",
        repo="https://git.example.com/risk/credit-limits",
        datasets=(("credit.applications", "restricted"),),
        card="empty",
        no_artifact=("0.3.0",),
    ),
    # --- Search & Recommendations ------------------------------------------------------
    ModelSpec(
        name="product-search-ranker",
        team="Search & Recommendations",
        risk_tier="medium",
        owner="chen",
        description=(
            "LambdaMART ranker that orders product search results from 120 query, product "
            "and personalisation features."
        ),
        purpose="Rank the first two pages of product search results on web and app.",
        license="proprietary",
        classification="internal",
        coverage=(
            "Judged query set (12k queries, 5-point relevance) plus online A/B guardrails; "
            "head, torso and tail query slices; per-locale breakdown."
        ),
        tags=("search", "ranking", "learning-to-rank", "real-time"),
        labels=("3.0.0", "3.1.0", "3.2.0", "3.2.1"),
        frameworks=("lightgbm",),
        flavor="lightgbm.LGBMRanker",
        metric_family="ranking",
        repo="https://git.example.com/search/ranker",
        datasets=(("search.click_logs", "internal"), ("search.judgements", "internal")),
        card="full",
        facts={
            "architecture": "LightGBM LambdaMART, 600 trees, 127 leaves",
            "inputs": "BM25 and embedding similarity, product popularity, price, stock, "
            "the shopper's recent categories",
            "output": "a relevance score per (query, product) pair",
            "training": "90 days of click and purchase logs debiased with position weighting",
            "risk": "popularity features can entrench best-sellers; a diversity re-rank runs "
            "after the model",
        },
        uploads=("3.2.1",),
    ),
    ModelSpec(
        name="query-embedding-encoder",
        team="Search & Recommendations",
        risk_tier="low",
        owner="lena",
        description=(
            "Sentence-transformer that embeds search queries and product titles into one "
            "384-dimensional space for semantic retrieval."
        ),
        purpose="Retrieve candidates the keyword index misses (synonyms, misspellings, intent).",
        license="Apache-2.0",
        classification="internal",
        coverage="Judged query set retrieval@k; multilingual slice (de, fr, es, it).",
        tags=("search", "embeddings", "nlp", "transformers"),
        labels=("1.0.0", "1.1.0", "2.0.0"),
        frameworks=("transformers", "transformers", "onnx"),
        flavor="sentence-transformers",
        metric_family="embedding",
        repo="https://git.example.com/search/query-encoder",
        datasets=(("search.query_product_pairs", "internal"),),
        card="full",
        facts={
            "architecture": "MiniLM-L12 bi-encoder fine-tuned with in-batch negatives; "
            "2.0.0 is an int8 ONNX export",
            "inputs": "a query or a product title, up to 64 tokens",
            "output": "a 384-dimensional L2-normalised vector",
            "training": "28M query-product pairs from purchases, hard negatives mined from BM25",
            "risk": "quality drops on very short queries and on languages outside the training set",
        },
        parents={"2.0.0": (("query-embedding-encoder", "1.1.0", DERIVED),)},
    ),
    ModelSpec(
        name="home-feed-recommender",
        team="Search & Recommendations",
        risk_tier="medium",
        owner="chen",
        description=(
            "Two-tower recommender that fills the personalised home feed, with a light "
            "re-ranker for freshness and diversity."
        ),
        purpose="Choose the 60 products shown on the app's home feed for each shopper.",
        license="proprietary",
        classification="confidential",
        coverage="Replay evaluation on 14 days of sessions; new-user and returning-user slices.",
        tags=("recommendations", "personalisation", "pytorch", "real-time"),
        labels=("0.8.0", "1.0.0", "1.1.0", "1.2.0"),
        frameworks=("pytorch",),
        flavor="torchscript",
        metric_family="ranking",
        repo="https://git.example.com/recs/home-feed",
        datasets=(("recs.sessions", "confidential"), ("catalog.products", "internal")),
        card="partial",
        facts={
            "architecture": "two towers of 3 MLP layers over learned id embeddings plus the "
            "query-embedding-encoder's title vectors",
            "inputs": "the shopper's last 50 interactions, product metadata",
            "output": "top-500 candidates, re-ranked to 60",
            "training": "six months of sessions, sampled softmax over 2M products",
            "risk": "cold-start users see popular items only",
        },
        parents={"1.0.0": (("query-embedding-encoder", "1.1.0", DERIVED),)},
        run_system="wandb",
    ),
    ModelSpec(
        name="query-spell-corrector",
        team="Search & Recommendations",
        risk_tier="low",
        owner="lena",
        description="Character-level sequence-to-sequence model that corrects misspelt queries.",
        purpose="Rewrite misspelt search queries before retrieval ('did you mean').",
        license="MIT",
        classification="internal",
        coverage="Synthetic typo set plus 5k hand-labelled real misspellings.",
        tags=("search", "nlp", "query-understanding"),
        labels=("0.1.0", "0.2.0"),
        frameworks=("pytorch",),
        flavor="",
        metric_family="text_classification",
        repo="https://git.example.com/search/spell",
        datasets=(("search.query_logs", "internal"),),
        card="empty",
        no_artifact=("0.2.0",),
    ),
    # --- Customer Care NLP ---------------------------------------------------------------
    ModelSpec(
        name="customer-care-base-lm",
        team="Customer Care NLP",
        risk_tier="low",
        owner="sofia",
        description=(
            "A DistilRoBERTa encoder further pre-trained on two years of anonymised support "
            "conversations; the base for the team's classifiers and generators."
        ),
        purpose="Shared foundation model for every Customer Care NLP model.",
        license="Apache-2.0",
        classification="confidential",
        coverage="Masked-language-model perplexity on held-out conversations; per-language.",
        tags=("nlp", "foundation-model", "transformers"),
        labels=("1.0.0", "1.1.0"),
        frameworks=("transformers",),
        flavor="transformers.AutoModelForMaskedLM",
        metric_family="language_model",
        repo="https://git.example.com/care/base-lm",
        datasets=(("care.conversations_anonymised", "confidential"),),
        card="growing",
        facts={
            "architecture": "DistilRoBERTa-base, 82M parameters, domain-adaptive pre-training",
            "inputs": "support conversation text, PII removed upstream",
            "output": "contextual token embeddings",
            "training": "1.8B tokens of support chats and e-mails, 2022-2024, anonymised",
            "risk": "inherits the biases of the public pre-training corpus",
        },
    ),
    ModelSpec(
        name="support-intent-classifier",
        team="Customer Care NLP",
        risk_tier="medium",
        owner="sofia",
        description="Classifies incoming support messages into 48 intents for routing.",
        purpose="Route each new ticket to the right queue and suggest a help-centre article.",
        license="Apache-2.0",
        classification="confidential",
        coverage="Stratified hold-out of 20k labelled tickets; per-language and per-channel.",
        tags=("nlp", "classification", "routing", "transformers"),
        labels=("1.0.0", "1.1.0", "1.2.0", "2.0.0"),
        frameworks=("transformers",),
        flavor="transformers.AutoModelForSequenceClassification",
        metric_family="text_classification",
        repo="https://git.example.com/care/intent",
        datasets=(("care.labelled_tickets", "confidential"),),
        card="full",
        facts={
            "architecture": "customer-care-base-lm with a classification head over 48 intents",
            "inputs": "the first customer message of a ticket, up to 256 tokens",
            "output": "an intent and a confidence; below 0.55 the ticket goes to triage",
            "training": "160k tickets labelled by senior agents, re-labelled quarterly",
            "risk": "rare intents (under 100 examples) are often confused with 'other'",
        },
        parents={
            "1.0.0": (("customer-care-base-lm", "1.0.0", FINE),),
            "2.0.0": (("customer-care-base-lm", "1.1.0", FINE),),
        },
        uploads=("1.2.0",),
    ),
    ModelSpec(
        name="ticket-sentiment-analyzer",
        team="Customer Care NLP",
        risk_tier="low",
        owner="lena",
        description="Scores customer sentiment and escalation risk for each ticket message.",
        purpose="Escalate angry or at-risk customers to senior agents before SLA breach.",
        license="Apache-2.0",
        classification="confidential",
        coverage="Hold-out of 8k messages with three-annotator labels; per-language.",
        tags=("nlp", "sentiment", "transformers"),
        labels=("0.5.0", "1.0.0", "1.0.1"),
        frameworks=("transformers",),
        flavor="transformers.AutoModelForSequenceClassification",
        metric_family="text_classification",
        repo="https://git.example.com/care/sentiment",
        datasets=(("care.sentiment_labels", "confidential"),),
        card="partial",
        facts={
            "architecture": "distilled from support-intent-classifier 1.1.0, regression head",
            "inputs": "one message, up to 256 tokens",
            "output": "sentiment in [-1, 1] and an escalation flag",
            "training": "40k messages annotated by three agents each",
            "risk": "sarcasm and mixed-language messages are often misread",
        },
        parents={"1.0.0": (("support-intent-classifier", "1.1.0", DERIVED),)},
    ),
    ModelSpec(
        name="reply-suggestion-generator",
        team="Customer Care NLP",
        risk_tier="high",
        owner="sofia",
        description=(
            "Encoder-decoder model that drafts a reply for the agent from the ticket and the "
            "matching help-centre article."
        ),
        purpose="Agent assist: draft replies that agents edit and send; never sent unreviewed.",
        license="Apache-2.0",
        classification="confidential",
        coverage=(
            "Offline ROUGE on 5k agent replies, weekly human review of 300 drafts, "
            "toxicity screen on 50k generations."
        ),
        tags=("nlp", "generation", "agent-assist", "transformers"),
        labels=("0.1.0", "0.2.0", "0.3.0-rc.1"),
        frameworks=("transformers",),
        flavor="transformers.AutoModelForSeq2SeqLM",
        metric_family="generation",
        repo="https://git.example.com/care/reply-suggest",
        datasets=(("care.agent_replies", "confidential"), ("care.help_centre", "public")),
        card="growing",
        facts={
            "architecture": "encoder initialised from customer-care-base-lm, 6-layer decoder",
            "inputs": "the conversation so far and the top help-centre article",
            "output": "a draft reply of up to 180 tokens",
            "training": "600k agent replies rated helpful by customers",
            "risk": "can state policies that do not exist; agents must review every draft",
        },
        parents={"0.1.0": (("customer-care-base-lm", "1.1.0", FINE),)},
        no_artifact=("0.3.0-rc.1",),
    ),
    # --- Vision -------------------------------------------------------------------------
    ModelSpec(
        name="document-ocr-extractor",
        team="Vision",
        risk_tier="medium",
        owner="omar",
        description=(
            "Detects text regions on scanned invoices and ID documents and reads them "
            "(CRNN recogniser over a DBNet detector)."
        ),
        purpose="Extract fields from uploaded documents for onboarding and accounts payable.",
        license="Apache-2.0",
        classification="confidential",
        coverage="Field-level accuracy on 3k invoices and 2k ID scans; per-document type.",
        tags=("vision", "ocr", "documents", "pytorch"),
        labels=("1.0.0", "1.1.0", "1.2.0"),
        frameworks=("pytorch", "pytorch", "onnx"),
        flavor="torchvision",
        metric_family="ocr",
        repo="https://git.example.com/vision/doc-ocr",
        datasets=(("vision.invoice_scans", "confidential"), ("vision.synthetic_text", "public")),
        card="full",
        facts={
            "architecture": "DBNet text detector (ResNet-18) and a CRNN recogniser with CTC",
            "inputs": "a document image at 300 dpi, up to 4 pages",
            "output": "text boxes with transcriptions and confidences",
            "training": "40k labelled scans plus 1M synthetic text renderings",
            "risk": "handwriting and low-contrast scans fail silently with low confidence",
        },
        parents={"1.2.0": (("document-ocr-extractor", "1.1.0", DERIVED),)},
        uploads=("1.0.0",),
        run_system="wandb",
    ),
    ModelSpec(
        name="id-document-verifier",
        team="Vision",
        risk_tier="high",
        owner="omar",
        description=(
            "Checks that an uploaded identity document is genuine and matches the applicant "
            "(template match, tamper detection, face match)."
        ),
        purpose="Know-your-customer checks during pay-later and merchant onboarding.",
        license="proprietary",
        classification="restricted",
        coverage=(
            "Hold-out of 6k genuine and 1.2k forged documents; per-country document type; "
            "face-match error rates by skin-tone and age group."
        ),
        tags=("vision", "kyc", "fraud", "pytorch"),
        labels=("1.0.0", "1.1.0", "1.2.0"),
        frameworks=("pytorch",),
        flavor="torchscript",
        metric_family="binary",
        repo="https://git.example.com/vision/id-verify",
        datasets=(("kyc.id_documents", "restricted"),),
        card="growing",
        facts={
            "architecture": "document-ocr-extractor backbone, a tamper classifier and an "
            "ArcFace face matcher",
            "inputs": "front and back images of the document and a selfie",
            "output": "genuine / suspicious / forged and a face-match score",
            "training": "consented onboarding documents from 31 countries",
            "risk": "face-match error rates differ across demographic groups; "
            "every rejection is reviewed by a person",
        },
        parents={"1.0.0": (("document-ocr-extractor", "1.1.0", FINE),)},
        run_system="wandb",
    ),
    ModelSpec(
        name="product-image-tagger",
        team="Vision",
        risk_tier="low",
        owner="omar",
        description="Multi-label classifier that tags product photos with 900 attributes.",
        purpose="Fill missing catalogue attributes (colour, pattern, material) for search facets.",
        license="Apache-2.0",
        classification="internal",
        coverage="Hold-out of 30k labelled product photos; per top-level category.",
        tags=("vision", "catalog", "classification", "tensorflow"),
        labels=("2.0.0", "2.1.0", "2.2.0"),
        frameworks=("tensorflow", "tensorflow", "onnx"),
        flavor="tf.keras",
        metric_family="detection",
        repo="https://git.example.com/vision/image-tagger",
        datasets=(("catalog.product_images", "internal"),),
        card="partial",
        facts={
            "architecture": "EfficientNet-B3 with a sigmoid head over 900 attributes",
            "inputs": "one product photo, 384x384",
            "output": "attribute probabilities; above 0.7 the attribute is written back",
            "training": "1.1M merchant photos with attributes from the catalogue",
            "risk": "merchant-provided labels are noisy for fashion materials",
        },
    ),
]

# Edit rights across teams (model_permission_grant): Vision lets Fraud & Risk maintain the
# ID verifier's thresholds, Search lets Customer Care reuse the query encoder.
GRANTS = [
    ("id-document-verifier", "priya"),
    ("query-embedding-encoder", "sofia"),
]

# --- Named approvers (approvals.services.approver_grant, by the governance user) ----------
APPROVER_STAGES = ("staging", "production", "archived")
# Every model of the team, present and future.
TEAM_APPROVERS = {"Fraud & Risk": ("grace", "tomas")}
# One model at a time.
MODEL_APPROVERS = {
    "product-search-ranker": ("dmitri", "nadia"),
    "query-embedding-encoder": ("dmitri", "nadia"),
    "home-feed-recommender": ("dmitri", "nadia"),
    "query-spell-corrector": ("dmitri", "nadia"),
    "customer-care-base-lm": ("dmitri", "nadia"),
    "support-intent-classifier": ("dmitri", "nadia"),
    "ticket-sentiment-analyzer": ("dmitri", "nadia"),
    "reply-suggestion-generator": ("dmitri", "nadia"),
    "document-ocr-extractor": ("grace", "tomas"),
    "id-document-verifier": ("grace", "tomas"),
    "product-image-tagger": ("grace", "tomas"),
}
# A group: the critical AML model needs three production approvals.
GROUP_APPROVERS = {"aml-transaction-monitor": (MODEL_RISK_GROUP,)}


# --- Stage history, made through the approvals services in this order ----------------------
@dataclass(frozen=True)
class Step:
    """One transition request: `requester` files it for version `number`, then each of
    `approvals` approves in turn. Fewer approvals than the policy needs leave it
    waiting; `rejected` = (reviewer, comment) turns it down instead."""

    model: str
    number: int
    to_stage: str
    requester: str
    reason: str
    approvals: tuple[str, ...] = ()
    rejected: tuple[str, str] | None = None


STAGING, PRODUCTION = "staging", "production"

HISTORY = [
    # Fraud & Risk (team-wide approvers grace and tomas; the AML model also needs the
    # Model Risk Committee for Production).
    Step(
        "card-fraud-scorer",
        3,
        STAGING,
        "priya",
        "Shadow scoring next to 1.1.0 for two weeks before it takes traffic.",
        ("grace",),
    ),
    Step(
        "card-fraud-scorer",
        3,
        PRODUCTION,
        "priya",
        "Two weeks of shadow scoring: 11% fewer false declines at the same fraud catch rate.",
        ("grace", "tomas"),
    ),
    Step(
        "card-fraud-scorer",
        4,
        STAGING,
        "priya",
        "2.0.0 adds merchant-history features; shadow it against 1.2.0 in Staging.",
        ("tomas",),
    ),
    Step(
        "card-fraud-scorer",
        4,
        PRODUCTION,
        "priya",
        "Shadow results hold in every market; fraud operations agreed the new thresholds.",
        ("tomas", "grace"),
    ),
    Step(
        "card-fraud-scorer",
        5,
        STAGING,
        "priya",
        "2.1.0 retrained on the newest snapshot; shadow it before asking for Production.",
        ("grace",),
    ),
    Step(
        "chargeback-predictor",
        3,
        STAGING,
        "marco",
        "Nightly batch run on the Q2 settlements to compare reserve levels with 1.0.0.",
        ("tomas",),
    ),
    Step(
        "chargeback-predictor",
        3,
        PRODUCTION,
        "marco",
        "Reserve levels from the batch comparison were reviewed and accepted by finance.",
        ("grace", "tomas"),
    ),
    Step(
        "aml-transaction-monitor",
        3,
        STAGING,
        "priya",
        "Parallel run with the current alert rules for one month, as compliance requires.",
        ("grace", "tomas"),
    ),
    Step(
        "aml-transaction-monitor",
        3,
        PRODUCTION,
        "priya",
        "Parallel run found every alert the rules found plus 14 confirmed mule accounts.",
        ("grace", "tomas", "nadia"),
    ),
    # Search & Recommendations (per-model approvers dmitri and nadia).
    Step(
        "product-search-ranker",
        2,
        STAGING,
        "chen",
        "Interleaving test against 3.0.0 on 5% of search traffic.",
        ("dmitri",),
    ),
    Step(
        "product-search-ranker",
        2,
        PRODUCTION,
        "chen",
        "Interleaving preferred 3.1.0 on head and torso queries; tail queries are flat.",
        ("dmitri", "nadia"),
    ),
    Step(
        "product-search-ranker",
        3,
        STAGING,
        "chen",
        "3.2.0 adds stock-aware features; A/B test it on 10% of traffic.",
        ("nadia",),
    ),
    # Waiting for its second approval.
    Step(
        "product-search-ranker",
        3,
        PRODUCTION,
        "chen",
        "The A/B test gained 1.8% search conversion with no latency cost.",
        ("dmitri",),
    ),
    Step(
        "query-embedding-encoder",
        2,
        PRODUCTION,
        "lena",
        "Low-risk retrieval model: straight to Production, the ranker guards what is shown.",
        ("nadia",),
    ),
    Step(
        "home-feed-recommender",
        2,
        STAGING,
        "chen",
        "First two-tower version; replay-evaluate it on 14 days of sessions.",
        ("dmitri",),
    ),
    # Approved, but blocked: its card lacks sections the production policy requires.
    Step(
        "home-feed-recommender",
        2,
        PRODUCTION,
        "chen",
        "Replay evaluation beats the popularity baseline on returning shoppers by 9%.",
        ("dmitri", "nadia"),
    ),
    # Customer Care NLP (per-model approvers dmitri and nadia).
    Step(
        "ticket-sentiment-analyzer",
        2,
        STAGING,
        "lena",
        "Escalation flag to be tried by the senior agents' queue first.",
    ),
    Step(
        "customer-care-base-lm",
        2,
        STAGING,
        "sofia",
        "1.1.0 adds 2024 conversations; the classifiers fine-tune from it in Staging.",
    ),
    Step(
        "customer-care-base-lm",
        2,
        PRODUCTION,
        "sofia",
        "Perplexity is down on every language; the downstream classifiers held their scores.",
        ("dmitri",),
    ),
    Step(
        "support-intent-classifier",
        2,
        STAGING,
        "sofia",
        "Route a copy of new tickets through 1.1.0 and compare queues with 1.0.0.",
        ("nadia",),
    ),
    Step(
        "support-intent-classifier",
        2,
        PRODUCTION,
        "sofia",
        "Routing agreed with senior agents on 96% of tickets, up from 93%.",
        ("dmitri", "nadia"),
    ),
    Step(
        "support-intent-classifier",
        3,
        STAGING,
        "sofia",
        "1.2.0 relabels the refund intents; shadow it on the support inbox.",
        ("dmitri",),
    ),
    # Waiting for both approvers.
    Step(
        "support-intent-classifier",
        3,
        PRODUCTION,
        "sofia",
        "Refund tickets now reach the right queue 30% more often; other intents are flat.",
    ),
    Step(
        "reply-suggestion-generator",
        2,
        STAGING,
        "sofia",
        "Try the new drafts with ten agents before a wider pilot.",
        rejected=(
            "dmitri",
            "The card has no evaluation data for 0.2.0 and the gates fail "
            "on it; add the human-review results, then ask again.",
        ),
    ),
    # Vision (per-model approvers grace and tomas).
    Step(
        "document-ocr-extractor",
        1,
        STAGING,
        "omar",
        "Run on a copy of this month's invoices next to the vendor OCR.",
        ("tomas",),
    ),
    Step(
        "document-ocr-extractor",
        1,
        PRODUCTION,
        "omar",
        "Matches the vendor OCR on invoices at a tenth of the cost per page.",
        ("grace", "tomas"),
    ),
    Step(
        "document-ocr-extractor",
        2,
        STAGING,
        "omar",
        "1.1.0 adds ID scans to training; compare field accuracy on both document types.",
        ("grace",),
    ),
    Step(
        "document-ocr-extractor",
        2,
        PRODUCTION,
        "omar",
        "Field accuracy on ID scans up 4 points; invoices unchanged.",
        ("tomas", "grace"),
    ),
    Step(
        "id-document-verifier",
        3,
        STAGING,
        "omar",
        "1.2.0 adds the tamper classifier; run it on the onboarding review queue.",
        ("tomas",),
    ),
    Step(
        "product-image-tagger",
        2,
        STAGING,
        "omar",
        "Write attributes back for one category (shoes) and measure facet clicks.",
    ),
]

# The README's two-minute walk: this version is in Staging with a complete card and full
# lineage, so a production request for it passes every gate.
WALK_MODEL, WALK_VERSION, WALK_REQUESTER = "card-fraud-scorer", 5, "priya"
WALK_APPROVERS = ("grace", "tomas")
