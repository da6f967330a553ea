"""What the deployment targets report serving, for the model and version pages: read by
the include itself (templates/registry/_serving.html), so each page adds it in one line."""

from django import template

from ..selectors import ModelServing, model_serving

register = template.Library()


@register.simple_tag
def serving_for(model) -> ModelServing:
    return model_serving(model)
