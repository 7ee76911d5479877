from django.shortcuts import render

from .models import Service, Severity


def service_list(request):
    return render(
        request,
        "incidents/service_list.html",
        {
            "services": Service.objects.all(),
            "severities": Severity.objects.all(),
        },
    )
