/**
 * The preview's sample contact (issue 16): without a chosen contact, the text is rendered for the
 * contact (of the list, else of the workspace) that fills the most of the placeholders it uses, and
 * the answer names the placeholders that contact still leaves empty, so "starts today in !" is not
 * what the editor shows when some contact has a city.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";

for (const backend of backends) {
  describe(`[${backend}] the preview's sample contact`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
    });
    afterAll(async () => {
      await app?.close();
    });

    it("picks the contact with the columns the text uses, in the list when one is given, and names what stays empty", async () => {
      const user = await createTestUser(app);
      const list = await user.trpc.contactList.create({ name: "Mixed" });
      const other = await user.trpc.contactList.create({ name: "Other" });
      await user.trpc.contactList.addContacts({
        id: list.id,
        contacts: [
          { phone: "+4915123458001", first_name: "Ana" },
          { phone: "+4915123458002", first_name: "Budi", city: "Lisbon" },
          { phone: "+4915123458003", city: "Porto" },
        ],
      });
      await user.trpc.contactList.addContacts({ id: other.id, contacts: [{ phone: "+4915123458004", first_name: "Caro", city: "Faro", shop: "Faro Mall" }] });

      const inList = await user.trpc.template.preview({ body: "Hi {{first_name}}, we open in {{city}}!", listId: list.id });
      expect(inList.text).toBe("Hi Budi, we open in Lisbon!");
      expect(inList.sample).toMatchObject({ firstName: "Budi", phone: "+4915123458002", missing: [] });

      // In the whole workspace, the contact with a shop too.
      const anywhere = await user.trpc.template.preview({ body: "Hi {{first_name}}, {{shop}} in {{city}} is open" });
      expect(anywhere.text).toBe("Hi Caro, Faro Mall in Faro is open");

      // Nobody in the list has a shop: the best has the rest, and the preview says what stays empty.
      const partly = await user.trpc.template.preview({ body: "Hi {{first_name}} at {{shop}} in {{city|your town}}", listId: list.id });
      expect(partly.text).toBe("Hi Budi at  in Lisbon");
      expect(partly.sample.missing).toEqual(["shop"]);

      // A chosen contact wins.
      const members = await user.trpc.contactList.members({ id: list.id, limit: 10 });
      const ana = members.items.find((member) => member.firstName === "Ana")!;
      const chosen = await user.trpc.template.preview({ body: "Hi {{first_name}} in {{city}}", contactId: ana.id });
      expect(chosen.text).toBe("Hi Ana in ");
      expect(chosen.sample).toMatchObject({ id: ana.id, missing: ["city"] });
    });
  });
}
