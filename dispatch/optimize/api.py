"""POST /api/optimize: VROOM-compatible optimization, inline for small problems, else a job."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.tenancy import OrganizationApi
from common import clock
from common.heartbeat import stale_after_s
from common.parsers import JSONParser
from dispatch.models.jobs import OptimizationJob
from dispatch.optimize import services as optimize

EXAMPLE = OpenApiExample(
    "Two stops, one van",
    request_only=True,
    value={
        "vehicles": [{"id": 1, "start": [24.9384, 60.1699], "end": [24.9384, 60.1699], "capacity": [10]}],
        "jobs": [
            {"id": 1, "location": [24.9500, 60.1679], "delivery": [2], "service": 180},
            {"id": 2, "location": [24.9410, 60.1655], "delivery": [3], "service": 180},
        ],
    },
)


class OptimizeParamsSerializer(serializers.Serializer):
    budget = serializers.FloatField(min_value=0.1, max_value=300, default=2.0, help_text="Seconds of search")
    seed = serializers.IntegerField(min_value=0, default=0)
    mode = serializers.ChoiceField(
        choices=["auto", "async"], default="auto", help_text="auto: small problems inline (200), others as a job (202)"
    )


class JobSerializer(serializers.ModelSerializer):
    poll_url = serializers.SerializerMethodField()

    class Meta:
        model = OptimizationJob
        fields = [
            "id",
            "status",
            "budget_s",
            "seed",
            "progress",
            "best_cost",
            "solution",
            "error",
            "attempts",
            "attempt",
            "created_at",
            "started_at",
            "finished_at",
            "poll_url",
        ]

    def get_poll_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(f"/api/optimize/jobs/{job.pk}")


class VroomSolutionSerializer(serializers.Serializer):
    """VROOM's output document (documents the inline answer; built by `routing.format_solution`)."""

    code = serializers.IntegerField(help_text="0: solved")
    summary = serializers.DictField(help_text="Totals: cost, routes, unassigned, duration, distance...")
    unassigned = serializers.ListField(child=serializers.DictField(), help_text="Each with id, type and reason")
    routes = serializers.ListField(child=serializers.DictField(), help_text="Each with vehicle, steps and totals")


class OptimizeApi(OrganizationApi):
    # A VROOM document is JSON (through the project parser: bounded depth, no NUL); a form or
    # multipart body parsed into a QueryDict (a dict) and was
    # solved as an empty problem. Anything but JSON is refused with 415.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="optimize",
        summary="Solve a VROOM-format problem",
        description="Body: VROOM's input document (`jobs`, `shipments`, `vehicles`, optional `matrices`). "
        "Small problems (≤ 50 tasks, budget ≤ 2 s) answer 200 with VROOM's output (`routes`, `unassigned` with "
        "`reason`, `summary`); others answer 202 with a job to poll.",
        parameters=[
            OpenApiParameter("budget", float),
            OpenApiParameter("seed", int),
            OpenApiParameter("mode", str, enum=["auto", "async"]),
        ],
        request=dict,
        responses={
            200: VroomSolutionSerializer,
            202: JobSerializer,
            429: OpenApiResponse(
                description="optimization_jobs_limit: the organisation already has "
                "WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG jobs queued or running; retry after `Retry-After` seconds"
            ),
        },
        examples=[EXAMPLE],
    )
    def post(self, request):
        params = OptimizeParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a VROOM problem document (a JSON object)."]})
        budget, seed = params.validated_data["budget"], params.validated_data["seed"]
        problem = optimize.problem_parse(request.data)
        if params.validated_data["mode"] == "auto" and optimize.is_small(problem, budget):
            return Response(optimize.optimize_inline(problem=problem, budget_s=budget, seed=seed))
        job = optimize.optimization_job_create(actor=self.actor, document=request.data, budget_s=budget, seed=seed)
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class JobApi(OrganizationApi):
    serializer_class = JobSerializer

    def organization_queryset(self):
        return OptimizationJob.objects.all()

    def job(self, pk) -> OptimizationJob:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def answer(self, job):
        return Response(JobSerializer(job, context={"request": self.request}).data)


class JobDetailApi(JobApi):
    @extend_schema(operation_id="optimize_job", summary="Poll a job: status, progress, best-so-far, solution")
    def get(self, request, pk):
        # A read never writes: a job whose worker died shows as failed until the sweep records it.
        return self.answer(self.job(pk).as_read(now=clock.now(), after_s=stale_after_s()))


class JobCancelApi(JobApi):
    @extend_schema(operation_id="optimize_job_cancel", request=None)
    def post(self, request, pk):
        return self.answer(optimize.optimization_job_cancel(actor=self.actor, job=self.job(pk)))


class JobRetryApi(JobApi):
    @extend_schema(operation_id="optimize_job_retry", request=None)
    def post(self, request, pk):
        return self.answer(optimize.optimization_job_retry(actor=self.actor, job=self.job(pk)))
