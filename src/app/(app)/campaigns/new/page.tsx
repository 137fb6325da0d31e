"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { CampaignForm } from "~/components/CampaignForm";
import { PageHeader } from "~/components/ui/card";

export default function NewCampaignPage() {
  const router = useRouter();
  return (
    <>
      <Link href="/campaigns" className="mb-2 inline-block text-sm text-emerald-800 hover:underline">
        ← Campaigns
      </Link>
      <PageHeader title="New campaign" description="Choose who receives it, what they read, and when it goes out." />
      <CampaignForm onSaved={(campaign) => router.push(`/campaigns/${campaign.id}`)} />
    </>
  );
}
