def card_edit(request, name, number):
    raise NotImplementedError
