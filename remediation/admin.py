from django import forms
from django.contrib import admin

from . import actions
from .models import ActionRun, Scenario, ScenarioStep


class StepForm(forms.ModelForm):
    action = forms.ChoiceField(required=False)

    class Meta:
        model = ScenarioStep
        fields = ["kind", "order", "text", "action", "params"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "— none —"), *actions.choices()]

    def clean(self):
        data = super().clean()
        if data.get("action"):
            spec = actions.get(data["action"])
            known = {p.name for p in spec.params}
            unknown = set(data.get("params") or {}) - known
            if unknown:
                raise forms.ValidationError(
                    f"{spec.key} has no parameter {', '.join(sorted(unknown))}; "
                    f"it takes {', '.join(sorted(known)) or 'none'}."
                )
        return data


class StepInline(admin.TabularInline):
    model = ScenarioStep
    form = StepForm
    extra = 1


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "slug", "order"]
    search_fields = ["title", "keywords"]
    filter_horizontal = ["services"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [StepInline]


@admin.register(ActionRun)
class ActionRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "action",
        "state",
        "incident",
        "requested_by",
        "decided_by",
        "requested_at",
    ]
    list_filter = ["state", "action"]
    readonly_fields = [f.name for f in ActionRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
