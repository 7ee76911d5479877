from django.urls import path

from . import views

urlpatterns = [
    path("deployments/", views.DeploymentListView.as_view(), name="api-deployment-list"),
    path("deployments/argocd/", views.ArgoCDWebhookView.as_view(), name="api-deployment-argocd"),
]
