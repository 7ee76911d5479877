from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from nexusops.common import roles

from ..models import Service, Severity


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["slug", "name", "kind", "owner_team", "description", "runbook_url"]


class SeveritySerializer(serializers.ModelSerializer):
    response_time_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Severity
        fields = ["code", "name", "definition", "example", "response_time_seconds"]

    def get_response_time_seconds(self, obj: Severity) -> int:
        return int(obj.response_time.total_seconds())


class ServiceListView(generics.ListAPIView):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    filterset_fields = ["kind"]


class SeverityListView(generics.ListAPIView):
    queryset = Severity.objects.all()
    serializer_class = SeveritySerializer
    pagination_class = None


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    time_zone = serializers.CharField()


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        profile = getattr(request.user, "profile", None)
        return Response(
            {
                "username": request.user.get_username(),
                "role": roles.user_role(request.user),
                "time_zone": getattr(profile, "time_zone", "UTC"),
            }
        )
