def catalog(request):
    raise NotImplementedError
