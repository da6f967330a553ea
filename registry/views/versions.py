def version_detail(request, name, number):
    raise NotImplementedError


def version_compare(request, name):
    raise NotImplementedError


def artifact_download(request, name, number):
    raise NotImplementedError
