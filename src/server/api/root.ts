import { apiKeyRouter } from "./routers/apiKey";
import { authRouter } from "./routers/auth";
import { campaignRouter } from "./routers/campaign";
import { contactListRouter } from "./routers/contactList";
import { mediaRouter } from "./routers/media";
import { templateRouter } from "./routers/template";
import { whatsappSessionRouter } from "./routers/whatsappSession";
import { webhookRouter } from "./routers/webhook";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  apiKey: apiKeyRouter,
  whatsappSession: whatsappSessionRouter,
  contactList: contactListRouter,
  template: templateRouter,
  media: mediaRouter,
  campaign: campaignRouter,
});

  webhook: webhookRouter,
export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
