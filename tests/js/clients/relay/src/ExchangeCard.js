// One exchange, refetchable by its global id through Query.node (@refetchable on a Node type).
import { graphql } from "relay-runtime";

export const ExchangeCard = graphql`
  fragment ExchangeCard_exchange on ExperienceExchange
  @refetchable(queryName: "ExchangeCardRefetchQuery") {
    id
    slug
    title
    status
    startsOn
    endsOn
    timeZone
    host {
      id
      name
    }
    partners {
      id
      name
    }
  }
`;
