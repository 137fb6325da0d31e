"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/format";
import { ImagePicker } from "~/components/ImagePicker";
import { useMediaUrl } from "~/components/MediaThumb";
import { MessageEditor } from "~/components/MessageEditor";
import { MessagePreview } from "~/components/MessagePreview";
import type { Template } from "~/components/types";
import { Button } from "~/components/ui/button";
import { Card, Empty, Loading, PageHeader } from "~/components/ui/card";
import { useConfirm } from "~/components/ui/confirm";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { Pager, useCursorPager } from "~/components/ui/pager";
import { useToast } from "~/components/ui/toast";
import { useTRPC } from "~/trpc/react";

export default function TemplatesPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const pager = useCursorPager();
  const templates = useQuery(trpc.template.list.queryOptions({ cursor: pager.cursor, limit: 20 }));
  const [editing, setEditing] = useState<Template | null>(null);
  const [name, setName] = useState("");
  const [body, setBody] = useState("");
  const [mediaId, setMediaId] = useState("");
  // The preview says what is wrong with the body as it is typed: the save's error about it is not said twice.
  const [bodyIssueShown, setBodyIssueShown] = useState(false);
  const imageUrl = useMediaUrl(mediaId || null);

  const refresh = () => void queryClient.invalidateQueries(trpc.template.pathFilter());
  const startNew = () => {
    setEditing(null);
    setName("");
    setBody("");
    setMediaId("");
    create.reset();
    update.reset();
  };
  const create = useMutation(
    trpc.template.create.mutationOptions({
      onSuccess: (template) => {
        toast.success(`Template "${template.name}" saved`);
        setEditing(template);
        refresh();
      },
    }),
  );
  const update = useMutation(
    trpc.template.update.mutationOptions({
      onSuccess: (template) => {
        toast.success(`Template "${template.name}" updated`);
        setEditing(template);
        refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.template.delete.mutationOptions({
      onSuccess: () => {
        toast.success("Template deleted");
        startNew();
        refresh();
      },
    }),
  );
  const anySaveError = editing ? update.error : create.error;
  const saveError = anySaveError?.data && "field" in anySaveError.data && anySaveError.data.field === "body" && bodyIssueShown ? null : anySaveError;

  return (
    <>
      <PageHeader
        title="Templates"
        description="Reusable messages with placeholders, filled in for each contact when the campaign sends."
        actions={
          <Button variant="secondary" onClick={startNew} data-testid="template-new">
            New template
          </Button>
        }
      />
      <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
        <Card title="Your templates">
          <ErrorMessage error={templates.error} />
          {templates.isPending ? (
            <Loading />
          ) : templates.data?.items.length ? (
            <ul className="-mx-2 space-y-1" data-testid="templates">
              {templates.data.items.map((template) => (
                <li key={template.id}>
                  <button
                    type="button"
                    onClick={() => {
                      setEditing(template);
                      setName(template.name);
                      setBody(template.body);
                      setMediaId(template.mediaId ?? "");
                      create.reset();
                      update.reset();
                    }}
                    className={`w-full rounded-md px-2 py-2 text-left ${editing?.id === template.id ? "bg-emerald-50" : "hover:bg-slate-50"}`}
                  >
                    <span className="block truncate text-sm font-medium">{template.name}</span>
                    <span className="block truncate text-xs text-slate-500">{template.body}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No template yet: write one here.</Empty>
          )}
          <Pager pager={pager} nextCursor={templates.data?.nextCursor} label="Template pages" />
        </Card>

        <div className="grid gap-4 xl:grid-cols-2">
          <Card title={editing ? `Edit “${editing.name}”` : "New template"}>
            <form
              className="space-y-3"
              onSubmit={(event) => {
                event.preventDefault();
                if (editing) update.mutate({ id: editing.id, name, body, mediaId: mediaId || null });
                else create.mutate({ name, body, mediaId: mediaId || null });
              }}
            >
              <Field label="Name">
                <Input data-testid="template-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={100} />
              </Field>
              <MessageEditor value={body} onChange={setBody} testId="template-body" />
              <ImagePicker value={mediaId} onChange={setMediaId} testId="template-media" />
              <ErrorMessage error={saveError} />
              <div className="flex flex-wrap gap-2">
                <Button type="submit" pending={create.isPending || update.isPending} data-testid="template-save">
                  {editing ? "Save changes" : "Save template"}
                </Button>
                {editing ? (
                  <Button
                    variant="danger"
                    pending={remove.isPending}
                    onClick={async () => {
                      const ok = await confirm({
                        title: `Delete the template "${editing.name}"?`,
                        body: "Campaigns that already sent keep their messages.",
                        confirmLabel: "Delete",
                        danger: true,
                      });
                      if (ok) remove.mutate({ id: editing.id });
                    }}
                  >
                    Delete
                  </Button>
                ) : null}
              </div>
              {editing ? <p className="text-xs text-slate-500">Last changed {formatDateTime(editing.updatedAt)}</p> : null}
              <ErrorMessage error={remove.error} />
            </form>
          </Card>
          <Card title="Preview">
            <MessagePreview body={body} imageUrl={imageUrl} onIssues={setBodyIssueShown} />
          </Card>
        </div>
      </div>
    </>
  );
}
