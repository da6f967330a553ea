def model_create(request):
    raise NotImplementedError


def model_detail(request, name):
    raise NotImplementedError


def model_edit(request, name):
    raise NotImplementedError
