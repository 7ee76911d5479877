# The moved models' content types change app label (incidents → oncall) in place, so their
# permissions keep their rows and ids: a group or a person granted "Can change rotations and
# approve overrides" before the move still has it (now oncall.manage_oncall), as do the admin's
# history entries. A database that already has oncall content types (made by a migrate that
# ran before this one existed) has their grants carried over and the old rows removed.

from django.db import migrations

MODELS = (
    "rotation",
    "rotationmember",
    "rotationoverride",
    "paypolicy",
    "escalationpolicy",
    "escalationtier",
)


def _move(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        for perm in Permission.objects.filter(content_type=old):
            twin = Permission.objects.filter(content_type=new, codename=perm.codename).first()
            if twin is None:
                perm.content_type = new
                perm.save(update_fields=["content_type"])
                continue
            twin.group_set.add(*perm.group_set.all())
            twin.user_set.add(*perm.user_set.all())
            perm.delete()
        old.delete()


def forwards(apps, schema_editor) -> None:
    _move(apps, "incidents", "oncall")


def backwards(apps, schema_editor) -> None:
    _move(apps, "oncall", "incidents")


class Migration(migrations.Migration):
    dependencies = [
        ("oncall", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
